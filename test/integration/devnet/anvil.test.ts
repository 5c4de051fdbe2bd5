// The devnet's anvil never outlives the process that started it, even one killed with
// SIGKILL (pts dev killed -9, a crashed test worker): no handler runs then, the kernel's
// parent-death signal does the work (src/devnet/anvil.ts).
import { spawn } from 'node:child_process';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const STARTER = `
  const { startAnvil } = await import('./src/devnet/anvil.ts');
  const anvil = await startAnvil();
  process.stdout.write(JSON.stringify({ pid: anvil.pid, rpcUrl: anvil.rpcUrl }) + '\\n');
  setInterval(() => undefined, 1000);
`;

describe('anvil', () => {
  (process.platform === 'linux' ? it : it.skip)('dies with the process that started it, also when that one is SIGKILLed', async () => {
    const starter = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', STARTER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      starter.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      starter.once('exit', (code) => reject(new Error(`starter exited ${code}`)));
    });
    const { pid, rpcUrl } = JSON.parse(line) as { pid: number; rpcUrl: string };
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(true);
    const chainId = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }) });
    expect(chainId.ok).toBe(true);

    starter.kill('SIGKILL');
    try {
      const deadline = Date.now() + 5000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid)).toBe(false);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL'); // not left behind when this fails
    }
  }, 30_000);
});
