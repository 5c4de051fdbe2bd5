// Opt-in CPU profile of one phase of a benchmark: BENCH_PROFILE=<folder> writes
// <folder>/<name>.cpuprofile (open it in Chrome DevTools or speedscope). A profile of the
// whole process would mix the phase being measured with the setup around it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** Starts profiling when BENCH_PROFILE is set; the returned function stops and writes it. */
export async function profilePhase(name: string): Promise<() => Promise<void>> {
  const folder = process.env.BENCH_PROFILE;
  if (!folder) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}
