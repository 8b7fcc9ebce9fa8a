// DAP round-trip benchmark (not a test): stackTrace + scopes + variables for the stopped
// thread of an MVASM program, repeated; prints the median and p99 in milliseconds.
//
//   cargo build --release -p hsx-cli -p hsxd
//   HSX_BIN=target/release/hsx node tests/dap/bench.js [iterations]
'use strict';

const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const ROOT = path.resolve(__dirname, '..', '..');
const HSX = process.env.HSX_BIN || path.join(ROOT, 'target', 'release', 'hsx');
const N = Number(process.argv[2] || 500);

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hsx-dap-bench-'));
  const src = path.join(ROOT, 'examples', 'loop.mvasm');
  const hxe = path.join(dir, 'loop.hxe');
  cp.execFileSync(HSX, ['asm', src, '-o', hxe, '--sym', path.join(dir, 'loop.sym')]);
  const dc = new DebugClient(HSX, 'dap', 'hsx');
  dc.defaultTimeout = 20000;
  await dc.start();
  try {
    await dc.initializeRequest();
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: hxe, cwd: ROOT });
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 25 }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const threadId = (await stopped).body.threadId;
    const times = [];
    for (let i = 0; i < N; i++) {
      const t = process.hrtime.bigint();
      const st = await dc.stackTraceRequest({ threadId });
      const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
      for (const s of sc.body.scopes) {
        await dc.variablesRequest({ variablesReference: s.variablesReference });
      }
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
    console.log(`dap stackTrace+scopes+variables(all scopes): ${N} round trips, ` +
      `median ${q(0.5).toFixed(3)} ms, p99 ${q(0.99).toFixed(3)} ms`);
  } finally {
    await dc.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
