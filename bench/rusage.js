// Preloaded into a benchmarked process (node --import): reports its peak memory and CPU time when it exits.
import { readFileSync, writeSync } from "node:fs";

/** CPU milliseconds of the children this process waited for (git), from /proc where there is one. */
function childrenCpuMs() {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return 0;
  }
}

process.on("exit", () => {
  const usage = process.resourceUsage();
  const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
  writeSync(
    2,
    `\nBENCH_MAX_RSS_KB=${usage.maxRSS}\nBENCH_CPU_MS=${Math.round(cpuMs)}\nBENCH_CHILD_CPU_MS=${Math.round(childrenCpuMs())}\n`,
  );
});
