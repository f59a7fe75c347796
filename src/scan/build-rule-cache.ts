// Run by `npm run build`: compiles the built-in rules once (parse, check, analyse) and writes rule-cache.ts's file.
import { writeFileSync } from "node:fs";
import { compileRules, regexFacts } from "./compile.js";
import { DECODERS } from "./decoders.js";
import { builtinSignature, RULE_CACHE_FILE, type RuleCache } from "./rule-cache.js";
import { BUILTIN_RULES_DIR, parseRuleFolder } from "./rules.js";

const rules = parseRuleFolder(BUILTIN_RULES_DIR);
compileRules(rules);
const regexes: RuleCache["regexes"] = {};
for (const source of [...rules.map((r) => r.regex), ...DECODERS.map((d) => d.regex)])
  regexes[source] = regexFacts(source);
const cache: RuleCache = { signature: builtinSignature(), rules, regexes };
writeFileSync(RULE_CACHE_FILE, `${JSON.stringify(cache)}\n`);
console.log(`leakwarden: precompiled ${rules.length} built-in rules into ${RULE_CACHE_FILE}`);
