// Preloaded into a service (NODE_OPTIONS=--require …; `--cpu-prof` itself is not allowed in
// NODE_OPTIONS) when BENCH_CPU_PROFILE=1: samples the whole process with V8's profiler every
// 100 µs and writes <BENCH_CPU_PROFILE_DIR>/<pid>.cpuprofile when it exits.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Session } = require('node:inspector');

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  // An in-process session answers synchronously, so this also works inside an 'exit' handler.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
