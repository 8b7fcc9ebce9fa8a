// Drives `hsx dap` with @vscode/debugadapter-testsupport's DebugClient, the client VS Code's
// own adapters are tested with. Every wait has a timeout; nothing sleeps to synchronise.
//
//   HSX_BIN=target/debug/hsx HSXD_BIN=target/debug/hsxd node --test tests/dap
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const ROOT = path.resolve(__dirname, '..', '..');
const HSX = process.env.HSX_BIN || path.join(ROOT, 'target', 'debug', 'hsx');
const HSXD = process.env.HSXD_BIN || path.join(ROOT, 'target', 'debug', 'hsxd');
const WAIT = 20000;

function work() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hsx-dap-test-'));
  for (const f of fs.readdirSync(path.join(__dirname, 'programs'))) {
    fs.copyFileSync(path.join(__dirname, 'programs', f), path.join(dir, f));
  }
  return dir;
}

function run(args) {
  const r = cp.spawnSync(HSX, args, { encoding: 'utf8', timeout: 120000 });
  assert.strictEqual(r.status, 0, `hsx ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function newClient() {
  const dc = new DebugClient(HSX, 'dap', 'hsx');
  dc.defaultTimeout = WAIT;
  dc.outputText = '';
  dc.on('output', (e) => { dc.outputText += e.body.output; });
  return dc;
}

/** Sends a request and waits for the `stopped` event it causes (listening first). */
async function stopAfter(dc, send, reason) {
  const stopped = dc.waitForEvent('stopped', WAIT);
  await send();
  const ev = await stopped;
  if (reason) assert.strictEqual(ev.body.reason, reason, JSON.stringify(ev.body));
  return ev.body;
}

async function top(dc, threadId) {
  const st = await dc.stackTraceRequest({ threadId });
  return st.body.stackFrames;
}

async function scope(dc, frameId, name) {
  const sc = await dc.scopesRequest({ frameId });
  const s = sc.body.scopes.find((x) => x.name === name);
  assert.ok(s, `no scope ${name}`);
  return (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
}

/** Waits until `cond(text)` holds for the collected output, or fails after WAIT. */
function outputUntil(dc, cond) {
  if (cond(dc.outputText)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`output never matched; got: ${dc.outputText}`)), WAIT);
    const on = () => {
      if (cond(dc.outputText)) { clearTimeout(t); dc.removeListener('output', on); resolve(); }
    };
    dc.on('output', on);
  });
}

test('C program: breakpoints, stepping, variables, evaluate, setVariable, data breakpoint, exit', { timeout: 90000 }, async () => {
  const dir = work();
  const src = path.join(dir, 'prog.c');
  const dc = newClient();
  await dc.start();
  try {
    const init = await dc.initializeRequest();
    assert.strictEqual(init.body.supportsStepBack, true);
    assert.strictEqual(init.body.supportsDataBreakpoints, true);
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: src });
    await initialized;

    const bp = await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 13 }, { line: 2 }] });
    assert.strictEqual(bp.body.breakpoints[0].verified, true);
    assert.strictEqual(bp.body.breakpoints[0].line, 13);
    // Line 2 has no code; it binds to the next line that has (6, square's opening line, or later).
    assert.ok(bp.body.breakpoints[1].line >= 2);
    await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 13 }] });

    const first = await stopAfter(dc, () => dc.configurationDoneRequest(), 'breakpoint');
    const tid = first.threadId;
    assert.strictEqual(first.allThreadsStopped, false);
    const threads = await dc.threadsRequest();
    assert.ok(threads.body.threads.some((t) => t.id === tid && t.name.startsWith('prog')));

    let frames = await top(dc, tid);
    assert.strictEqual(frames[0].name, 'main');
    assert.strictEqual(frames[0].line, 13);
    assert.strictEqual(frames[0].source.path, fs.realpathSync(src));

    // Locals with C types; the struct expands.
    const locals = await scope(dc, frames[0].id, 'Locals');
    const p = locals.find((v) => v.name === 'p');
    assert.ok(p && p.type === 'struct pt' && p.variablesReference > 0, JSON.stringify(locals));
    const members = (await dc.variablesRequest({ variablesReference: p.variablesReference })).body.variables;
    assert.deepStrictEqual(members.map((m) => [m.name, m.value]), [['x', '3'], ['y', '4']]);
    const hexed = (await dc.variablesRequest({ variablesReference: p.variablesReference, format: { hex: true } })).body.variables;
    assert.strictEqual(hexed[0].value, '0x00000003');

    // Registers.
    const regs = await scope(dc, frames[0].id, 'Registers');
    for (const r of ['R0', 'R7', 'R15', 'PC', 'SP', 'PSW']) assert.ok(regs.some((v) => v.name === r), r);
    const pc = regs.find((v) => v.name === 'PC');
    assert.strictEqual(pc.value, frames[0].instructionPointerReference.replace('0x', '0x0000'));

    // Evaluate: variables, members, registers, memory, expressions.
    const ev = async (expression, context = 'repl') => (await dc.evaluateRequest({ expression, frameId: frames[0].id, context })).body;
    assert.strictEqual((await ev('p.x + p.y * 2')).result, '11');
    assert.strictEqual((await ev('counter', 'hover')).result, '5');
    assert.strictEqual((await ev('*(int*)&counter', 'watch')).result, '5');
    assert.strictEqual((await ev('&p == &p.x')).result, '1');
    assert.match((await ev('PC')).result, /^\d+$/);
    await assert.rejects(dc.evaluateRequest({ expression: 'nosuchvar', frameId: frames[0].id }));

    // Step in to square, out again, over to the next line.
    await stopAfter(dc, () => dc.stepInRequest({ threadId: tid }), 'step');
    frames = await top(dc, tid);
    assert.strictEqual(frames[0].name, 'square');
    assert.strictEqual(frames[0].line, 7);
    assert.strictEqual(frames[1].name, 'main');
    const sqLocals = await scope(dc, frames[0].id, 'Locals');
    assert.strictEqual(sqLocals.find((v) => v.name === 'x').value, '3');
    await stopAfter(dc, () => dc.stepOutRequest({ threadId: tid }), 'step');
    frames = await top(dc, tid);
    assert.strictEqual(frames[0].name, 'main');
    assert.strictEqual(frames[0].line, 13);
    await stopAfter(dc, () => dc.nextRequest({ threadId: tid }), 'step');
    frames = await top(dc, tid);
    assert.strictEqual(frames[0].line, 14);

    // setVariable: r = 9 (the program returns 0 only if it sees 9).
    let mainLocals = await scope(dc, frames[0].id, 'Locals');
    assert.strictEqual(mainLocals.find((v) => v.name === 'r').value, '14');
    const sc = await dc.scopesRequest({ frameId: frames[0].id });
    const localsRef = sc.body.scopes.find((s) => s.name === 'Locals').variablesReference;
    const set = await dc.setVariableRequest({ variablesReference: localsRef, name: 'r', value: '4 + 5' });
    assert.strictEqual(set.body.value, '9');

    // Data breakpoint on the global `counter`: the write on line 14 stops the task.
    const globalsRef = sc.body.scopes.find((s) => s.name === 'Globals').variablesReference;
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: globalsRef, name: 'counter' });
    assert.ok(info.body.dataId, JSON.stringify(info.body));
    const dbp = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId, accessType: 'write' }] });
    assert.strictEqual(dbp.body.breakpoints[0].verified, true);
    const hit = await stopAfter(dc, () => dc.continueRequest({ threadId: tid }), 'data breakpoint');
    assert.deepStrictEqual(hit.hitBreakpointIds, [dbp.body.breakpoints[0].id]);
    frames = await top(dc, tid);
    assert.strictEqual((await dc.evaluateRequest({ expression: 'counter', frameId: frames[0].id })).body.result, '9');
    await dc.setDataBreakpointsRequest({ breakpoints: [] });

    // Memory: read `counter`, write it back, disassemble around the PC.
    const addr = info.body.dataId.split(':')[1];
    const mem = await dc.customRequest('readMemory', { memoryReference: '0x' + Number(addr).toString(16), count: 4 });
    assert.strictEqual(Buffer.from(mem.body.data, 'base64').readInt32LE(0), 9);
    const wr = await dc.customRequest('writeMemory', { memoryReference: '0x' + Number(addr).toString(16), data: Buffer.from([9, 0, 0, 0]).toString('base64') });
    assert.strictEqual(wr.body.bytesWritten, 4);
    const dis = await dc.customRequest('disassemble', { memoryReference: frames[0].instructionPointerReference, instructionCount: 8, resolveSymbols: true });
    assert.strictEqual(dis.body.instructions.length, 8);
    assert.ok(dis.body.instructions.some((i) => i.location && i.location.path === fs.realpathSync(src)));

    // Over the printf call to the return line, then on to the end.
    for (let i = 0; i < 6; i++) {
      frames = await top(dc, tid);
      if (frames[0].line === 17) break;
      await stopAfter(dc, () => dc.nextRequest({ threadId: tid }), 'step');
    }
    assert.strictEqual((await top(dc, tid))[0].line, 17);
    await outputUntil(dc, (t) => t.includes('r=9 y=10'));
    const exited = dc.waitForEvent('exited');
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: tid });
    assert.strictEqual((await exited).body.exitCode, 0);
    await terminated;
  } finally {
    await dc.stop();
  }
});

test('MVASM program with .sym: line and function breakpoints, registers, stepOut', { timeout: 60000 }, async () => {
  const dir = work();
  const src = path.join(ROOT, 'examples', 'loop.mvasm');
  const hxe = path.join(dir, 'loop.hxe');
  run(['asm', src, '-o', hxe, '--sym', path.join(dir, 'loop.sym')]);
  const dc = newClient();
  await dc.start();
  try {
    await dc.initializeRequest();
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: hxe, cwd: ROOT });
    await initialized;
    const bp = await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 25 }] });
    assert.deepStrictEqual([bp.body.breakpoints[0].verified, bp.body.breakpoints[0].line], [true, 25]);
    const fbp = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'print_dec' }, { name: 'nope' }] });
    assert.deepStrictEqual(fbp.body.breakpoints.map((b) => b.verified), [true, false]);

    const stop = await stopAfter(dc, () => dc.configurationDoneRequest(), 'breakpoint');
    let frames = await top(dc, stop.threadId);
    assert.strictEqual(frames[0].line, 25);
    assert.strictEqual(frames[0].source.path, fs.realpathSync(src));
    const regs = await scope(dc, frames[0].id, 'Registers');
    assert.strictEqual(regs.find((r) => r.name === 'R1').value, '0x000013ba'); // 5050
    const r1 = await dc.evaluateRequest({ expression: 'R1 / 2', frameId: frames[0].id });
    assert.strictEqual(r1.body.result, '2525');

    await stopAfter(dc, () => dc.continueRequest({ threadId: stop.threadId }), 'function breakpoint');
    frames = await top(dc, stop.threadId);
    assert.strictEqual(frames[0].name, 'print_dec');
    assert.match(frames[0].source.path, /lib[/\\]print\.mvasm$/);
    await stopAfter(dc, () => dc.stepOutRequest({ threadId: stop.threadId }), 'step');
    frames = await top(dc, stop.threadId);
    assert.strictEqual(frames[0].name, 'main');
    assert.strictEqual(frames[0].line, 32);

    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: stop.threadId });
    assert.strictEqual((await exited).body.exitCode, 5050);
    await outputUntil(dc, (t) => t.includes('sum(1..100) = 5050'));
  } finally {
    await dc.stop();
  }
});

test('reverse execution: stepBack by line and instruction, reverseContinue to earlier breakpoint hits', { timeout: 60000 }, async () => {
  const dir = work();
  const src = path.join(ROOT, 'examples', 'loop.mvasm');
  const hxe = path.join(dir, 'loop.hxe');
  run(['asm', src, '-o', hxe, '--sym', path.join(dir, 'loop.sym')]);
  const dc = newClient();
  await dc.start();
  try {
    const init = await dc.initializeRequest();
    assert.strictEqual(init.body.supportsStepBack, true);
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: hxe, cwd: ROOT });
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 25 }] });
    const stop = await stopAfter(dc, () => dc.configurationDoneRequest(), 'breakpoint');
    const tid = stop.threadId;
    const reg = async (name) => {
      const frames = await top(dc, tid);
      return { line: frames[0].line, value: (await scope(dc, frames[0].id, 'Registers')).find((r) => r.name === name).value };
    };
    assert.deepStrictEqual(await reg('R1'), { line: 25, value: '0x000013ba' }); // 5050
    // One source line back: the JZ that left the loop (i == 100).
    await stopAfter(dc, () => dc.stepBackRequest({ threadId: tid }), 'step');
    assert.deepStrictEqual(await reg('R2'), { line: 21, value: '0x00000064' });
    // One instruction back: the CMP.
    await stopAfter(dc, () => dc.stepBackRequest({ threadId: tid, granularity: 'instruction' }), 'step');
    assert.strictEqual((await reg('R2')).line, 20);
    // Forward and back again: every register equals what it was on the way forward.
    const regsNow = async () => {
      const frames = await top(dc, tid);
      return { line: frames[0].line, regs: (await scope(dc, frames[0].id, 'Registers')).map((r) => `${r.name}=${r.value}`) };
    };
    const seen = [await regsNow()];
    for (let i = 0; i < 3; i++) {
      await stopAfter(dc, () => dc.nextRequest({ threadId: tid, granularity: 'instruction' }));
      seen.push(await regsNow());
    }
    for (let i = 2; i >= 0; i--) {
      await stopAfter(dc, () => dc.stepBackRequest({ threadId: tid, granularity: 'instruction' }), 'step');
      assert.deepStrictEqual(await regsNow(), seen[i]);
    }
    // A breakpoint inside the loop: reverse continue finds its last hits, newest first.
    await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 22 }] });
    await stopAfter(dc, () => dc.reverseContinueRequest({ threadId: tid }), 'breakpoint');
    assert.deepStrictEqual(await reg('R2'), { line: 22, value: '0x00000063' }); // i = 99
    await stopAfter(dc, () => dc.reverseContinueRequest({ threadId: tid }), 'breakpoint');
    assert.deepStrictEqual(await reg('R2'), { line: 22, value: '0x00000062' }); // i = 98
    // Forward again from the past: the breakpoint at 22 next stops at i = 99, live.
    await stopAfter(dc, () => dc.continueRequest({ threadId: tid }), 'breakpoint');
    assert.deepStrictEqual(await reg('R2'), { line: 22, value: '0x00000063' });
    await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [] });
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: tid });
    assert.strictEqual((await exited).body.exitCode, 5050);
    await outputUntil(dc, (t) => t.includes('sum(1..100) = 5050'));
    assert.strictEqual(dc.outputText.split('sum(1..100)').length, 2, 'printed once');
  } finally {
    await dc.stop();
  }
});

test('stopOnEntry, instruction stepping, a fault reported as an exception, exceptionInfo', { timeout: 60000 }, async () => {
  const dir = work();
  const dc = newClient();
  await dc.start();
  try {
    await dc.initializeRequest();
    const initialized = dc.waitForEvent('initialized');
    await dc.launchRequest({ program: path.join(dir, 'crash.mvasm'), stopOnEntry: true });
    await initialized;
    const entry = await stopAfter(dc, () => dc.configurationDoneRequest(), 'entry');
    let frames = await top(dc, entry.threadId);
    assert.strictEqual(frames[0].instructionPointerReference, '0x0000');
    await stopAfter(dc, () => dc.nextRequest({ threadId: entry.threadId, granularity: 'instruction' }), 'step');
    frames = await top(dc, entry.threadId);
    assert.strictEqual(frames[0].instructionPointerReference, '0x0004');
    const regs = await scope(dc, frames[0].id, 'Registers');
    assert.strictEqual(regs.find((r) => r.name === 'R1').value, '0x00000001');
    const fault = await stopAfter(dc, () => dc.continueRequest({ threadId: entry.threadId }), 'exception');
    assert.match(fault.description, /PC_OUT_OF_RANGE/);
    const info = await dc.exceptionInfoRequest({ threadId: entry.threadId });
    assert.strictEqual(info.body.exceptionId, 'PC_OUT_OF_RANGE');
    assert.strictEqual(info.body.breakMode, 'always');
    // A faulted task does not run again: continuing ends the session.
    const exited = dc.waitForEvent('exited');
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: entry.threadId });
    assert.strictEqual((await exited).body.exitCode, 1);
    await terminated;
  } finally {
    await dc.stop();
  }
});

/** Starts the hsxd binary on a free port; resolves to {addr, proc}. */
function startHsxd() {
  return new Promise((resolve, reject) => {
    const proc = cp.spawn(HSXD, ['--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const t = setTimeout(() => { proc.kill(); reject(new Error('hsxd did not start')); }, WAIT);
    const rl = readline.createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      const m = /^hsxd listening on (\S+)/.exec(line);
      if (m) { clearTimeout(t); resolve({ addr: m[1], proc }); }
    });
    proc.on('error', (e) => { clearTimeout(t); reject(e); });
  });
}

test('attach: a breakpoint stops one task while another keeps printing', { timeout: 60000 }, async () => {
  const dir = work();
  const hxe = path.join(dir, 'loop.hxe');
  const src = path.join(ROOT, 'examples', 'loop.mvasm');
  run(['asm', src, '-o', hxe, '--sym', path.join(dir, 'loop.sym')]);
  const ticker = path.join(dir, 'ticker.hxe');
  run(['cc', path.join(dir, 'ticker.c'), '-o', ticker]);
  const { addr, proc } = await startHsxd();
  const dc = newClient();
  try {
    // Loaded before the clock runs, so neither task has run yet.
    run(['load', ticker, '--connect', addr]);
    run(['load', hxe, '--connect', addr]);
    await dc.start();
    await dc.initializeRequest();
    const initialized = dc.waitForEvent('initialized');
    await dc.attachRequest({ address: addr });
    await initialized;
    const threads = (await dc.threadsRequest()).body.threads;
    assert.strictEqual(threads.length, 2, JSON.stringify(threads));
    const loop = threads.find((t) => t.name.startsWith('loop'));
    const bp = await dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 25 }] });
    assert.strictEqual(bp.body.breakpoints[0].verified, true);

    const stop = await stopAfter(dc, () => dc.configurationDoneRequest(), 'breakpoint');
    assert.strictEqual(stop.threadId, loop.id);
    assert.strictEqual(stop.allThreadsStopped, false);
    // While `loop` stays stopped, the ticker goes on: three more ticks arrive.
    const ticks = (t) => (t.match(/tick \d+/g) || []).length;
    const before = ticks(dc.outputText);
    await outputUntil(dc, (t) => ticks(t) >= before + 3);
    const frames = await top(dc, loop.id);
    assert.strictEqual(frames[0].line, 25);

    // Pause the ticker too: its output stops being a concern of the test, and `pause`
    // answers with a stop of that thread.
    const tick = threads.find((t) => t.name.startsWith('ticker'));
    const paused = await stopAfter(dc, () => dc.pauseRequest({ threadId: tick.id }), 'pause');
    assert.strictEqual(paused.threadId, tick.id);
    await dc.continueRequest({ threadId: tick.id });

    const gone = dc.waitForEvent('thread');
    await dc.continueRequest({ threadId: loop.id });
    const ev = await gone;
    assert.deepStrictEqual([ev.body.reason, ev.body.threadId], ['exited', loop.id]);
    await dc.disconnectRequest({ terminateDebuggee: false });
  } finally {
    dc.stopAdapter();
    proc.kill();
  }
});
