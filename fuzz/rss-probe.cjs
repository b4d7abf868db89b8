// Preloaded into every fuzz case's `ken` process (node -r): on exit, writes the process's peak
// resident set size in kB and its CPU time in microseconds (user + system) to $KEN_FUZZ_RSS_FILE,
// so the campaign can flag memory blow-ups and say how much CPU it took.
'use strict';
const file = process.env.KEN_FUZZ_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      require('node:fs').writeFileSync(file, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}`);
    } catch {
      // the case folder may be gone; the poller's figure stands
    }
  });
}
