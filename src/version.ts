import { readFileSync } from "node:fs";

const PACKAGE = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

/** The package version, read once from package.json next to dist/ and src/. */
export const VERSION: string = PACKAGE.version;

/** The project's documentation (its README), as package.json names it. */
export const HOMEPAGE: string = PACKAGE.homepage;
