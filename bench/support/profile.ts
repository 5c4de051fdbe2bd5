// Opt-in CPU profile of one phase of a benchmark: BENCH_PROFILE=<folder> writes
// <folder>/<name>.cpuprofile (open it in Chrome DevTools or speedscope). A profile of the
// whole process would mix the phase being measured with the setup around it.
// BENCH_PROFILE_INTERVAL_US sets the sampling interval (V8's default: 1000 us).
// BENCH_PROFILE_HEAP=1 also writes <folder>/<name>.heapprofile: where the phase allocated,
// counting what the garbage collector has since freed (what the GC time is spent on).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** Starts profiling when BENCH_PROFILE is set; the returned function stops and writes it. */
export async function profilePhase(name: string): Promise<() => Promise<void>> {
  const folder = process.env.BENCH_PROFILE;
  if (!folder) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  const interval = Number(process.env.BENCH_PROFILE_INTERVAL_US);
  if (interval > 0) await session.post('Profiler.setSamplingInterval', { interval });
  await session.post('Profiler.start');
  const heap = process.env.BENCH_PROFILE_HEAP === '1';
  if (heap) {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${name}.cpuprofile`), JSON.stringify(profile));
    if (heap) {
      const { profile: allocations } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(join(folder, `${name}.heapprofile`), JSON.stringify(allocations));
    }
    session.disconnect();
  };
}

/**
 * CPU seconds used so far by the processes of this machine whose command is `name`
 * (Linux /proc; null elsewhere): what the node and the database take from the cores
 * the ingester runs on.
 */
export function cpuSecondsOf(name: string): number | null {
  let dir: string[];
  try {
    dir = readdirSync('/proc');
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of dir) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}
