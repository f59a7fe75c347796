// `leakwarden rules list|test`: what the scanner looks for, and proof that each rule still works.
import { readFileSync, writeFileSync } from "node:fs";
import { compileRules } from "../scan/compile.js";
import { Engine } from "../scan/engine.js";
import { checkAllExamples } from "../scan/rule-examples.js";
import { loadRules } from "../scan/rules.js";
import { rulesMarkdown, withRulesTable } from "../scan/rules-table.js";
import { SeededRandom } from "../scan/samples.js";
import { type Command, parseCount, parseFlags, UsageError } from "./command.js";
import { colorEnabled, plural, style, table } from "./terminal.js";

const HELP = `Usage: leakwarden rules list [--rules DIR] [--json | --format markdown [--readme FILE]]
       leakwarden rules test [--rules DIR] [--seed N]

list    prints every rule: id, provider, checksum validator, and which provider
        can revoke the token (- when none can). --format markdown prints the
        table README.md shows; with --readme FILE it rewrites that table in FILE.
test    runs every rule's match and nomatch examples, built-in rules and those
        in --rules folders, and exits 1 if any example fails. Examples name
        generated tokens as {{format}} or {{format:bad-checksum}}; --seed picks
        the generator's seed so that a failure can be reproduced.

Options
  --rules DIR     add the rule files (*.yml) in DIR; repeatable
  --json          list as JSON
  --format F      text (default) or markdown
  --readme FILE   with --format markdown: replace the rules table in FILE
  --seed N        seed for generated example tokens (default: 1)

Rule files are documented in rules/README.md.
`;

const FLAGS = {
  rules: { type: "string", multiple: true },
  json: { type: "boolean" },
  format: { type: "string" },
  readme: { type: "string" },
  seed: { type: "string" },
} as const;

export const rulesCommand: Command = {
  name: "rules",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("rules", args, FLAGS);
    const [action, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, "rules");
    const rules = loadRules(values.rules ?? []);
    const s = style(colorEnabled(io.stdout));

    if (action === "list" || action === undefined) {
      if (values.format !== undefined && values.format !== "text" && values.format !== "markdown")
        throw new UsageError(`unknown --format "${values.format}"; use text or markdown`, "rules");
      if (values.readme !== undefined && values.format !== "markdown")
        throw new UsageError("--readme needs --format markdown", "rules");
      if (values.format === "markdown") {
        const markdown = rulesMarkdown(rules);
        if (values.readme === undefined) io.stdout.write(`${markdown}\n`);
        else {
          writeFileSync(values.readme, withRulesTable(readFileSync(values.readme, "utf8"), markdown));
          io.stdout.write(`updated the rules table in ${values.readme} (${plural(rules.length, "rule")})\n`);
        }
        return 0;
      }
      if (values.json) {
        const list = rules.map((r) => ({
          id: r.id,
          provider: r.provider,
          description: r.description,
          severity: r.severity,
          validator: r.validator ?? null,
          revoke: r.revoke ?? null,
          file: r.file,
        }));
        io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return 0;
      }
      const rows = [["ID", "PROVIDER", "VALIDATOR", "REVOCABLE"].map((h) => s.bold(h))];
      for (const r of rules) rows.push([r.id, r.provider, r.validator ?? "-", r.revoke ?? "-"]);
      io.stdout.write(`${table(rows)}\n`);
      return 0;
    }
    if (action === "test") {
      const seed = parseCount(values.seed, "--seed", "rules", 1);
      const engine = new Engine(compileRules(rules));
      const { examples, failures } = checkAllExamples(engine, rules, new SeededRandom(seed));
      for (const f of failures) {
        io.stdout.write(
          `${s.red("FAIL")} ${f.rule.file}: rule "${f.rule.id}": ${f.kind} example ${JSON.stringify(f.example)}: ${f.problem}\n`,
        );
      }
      const summary = `${plural(rules.length, "rule")}, ${plural(examples, "example")}, ${plural(failures.length, "failure")} (seed ${seed})`;
      io.stdout.write(`${failures.length === 0 ? s.green("ok") : s.red("failed")}: ${summary}\n`);
      return failures.length === 0 ? 0 : 1;
    }
    throw new UsageError(`unknown action "${action}"; use "rules list" or "rules test"`, "rules");
  },
};
