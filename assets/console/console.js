// leakwarden console: the only script the pages load (the Content Security Policy allows no other).
// "Was this token ever leaked?": the value is hashed here with Web Crypto; only "sha256:<hex>" is sent.

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function setUpLeakCheck() {
  const form = document.getElementById("leak-check");
  if (!form) return;
  const notice = document.getElementById("leak-js");
  if (notice) notice.hidden = true;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("leak-value");
    const value = input.value.trim();
    // The field has no name, so the browser never submits it; clear it anyway.
    input.value = "";
    if (!value) return;
    document.getElementById("leak-hash").value = `sha256:${await sha256Hex(value)}`;
    form.submit();
  });
}

document.addEventListener("DOMContentLoaded", setUpLeakCheck);
