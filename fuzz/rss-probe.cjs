// Preloaded into every fuzz case's `ken` process (node -r): on exit, writes the process's peak
// resident set size in kB to $KEN_FUZZ_RSS_FILE, so the campaign can flag memory blow-ups.
'use strict';
const file = process.env.KEN_FUZZ_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      require('node:fs').writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // the case folder may be gone; the poller's figure stands
    }
  });
}
