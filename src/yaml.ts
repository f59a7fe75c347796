// YAML, loaded on first use: most runs read no YAML at all (the built-in rules come precompiled), and loading
// the parser costs more start-up time than a whole small scan.
import { createRequire } from "node:module";

type YamlModule = typeof import("yaml");
let yaml: YamlModule | undefined;

export function parseYaml(text: string): unknown {
  yaml ??= createRequire(import.meta.url)("yaml") as YamlModule;
  return yaml.parse(text);
}
