// The frame of every console page: navigation, who is signed in, and the sign-out form. Assets are
// leakwarden's own files (no CDN), so that the console works on an air-gapped GitHub Enterprise Server.
import { type Html, html } from "./html.js";
import type { Session } from "./session.js";

export interface Frame {
  base: string;
  session?: Session;
  /** The navigation entry to mark as current. */
  current?: "overview" | "findings" | "registry" | "audit";
}

const NAV = [
  ["overview", "", "Overview"],
  ["findings", "/findings", "Findings"],
  ["registry", "/registry", "Registry"],
  ["audit", "/audit", "Audit log"],
] as const;

export function page(title: string, frame: Frame, body: Html): string {
  const { base, session } = frame;
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · leakwarden</title>
<link rel="stylesheet" href="${base}/assets/console.css">
<script src="${base}/assets/console.js" defer></script>
</head>
<body>
<header>
<a class="brand" href="${base}/">leakwarden</a>
${
  session
    ? html`<nav aria-label="Console"><ul>${NAV.map(
        ([key, path, label]) =>
          html`<li><a href="${base}${path || "/"}"${frame.current === key ? html` aria-current="page"` : ""}>${label}</a></li>`,
      )}</ul></nav>
<form class="signout" method="post" action="${base}/logout"><input type="hidden" name="csrf" value="${session.csrf}"><span>${session.login}</span> <button type="submit">Sign out</button></form>`
    : ""
}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`}`;
}
