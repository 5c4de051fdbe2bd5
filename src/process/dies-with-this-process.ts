// Child servers (anvil, embedded PostgreSQL) must not outlive this process even when it
// is killed, when no handler of ours can run.
import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * On Linux, runs the command through util-linux's `setpriv --pdeathsig <signal>`, which
 * execs it (same pid) with a parent-death signal: the kernel sends it `signal` when this
 * process dies, even by SIGKILL. Elsewhere, or without setpriv, the command as is; `tied`
 * says which. A tied child can get a process group of its own (spawn's `detached`), out
 * of reach of a terminal's Ctrl-C, so that this process decides when it stops.
 */
export function diesWithThisProcess(
  command: string,
  args: string[],
  signal: 'KILL' | 'INT' = 'KILL',
): { command: string; args: string[]; tied: boolean } {
  if (process.platform !== 'linux' || !existsSync(SETPRIV)) return { command, args, tied: false };
  return { command: SETPRIV, args: ['--pdeathsig', signal, '--', command, ...args], tied: true };
}
