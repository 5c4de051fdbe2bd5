// Issue 14 item 13: on a terminal the ingester's progress bar and the other components' log
// lines share the screen; a line must never be written onto the bar.
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log/index.js';

/** A stream that says it is a terminal and renders what it receives as a terminal would (CR, erase line, newline). */
function fakeTerminal() {
  const done: string[] = [];
  let current = '';
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        // Only the sequences the logger uses: "\r", "\x1b[2K" (erase the line), "\n".
        for (const token of chunk.toString().split(/(\r|\x1b\[2K|\n)/)) {
          if (token === '\r' || token === '') continue;
          else if (token === '\x1b[2K') current = '';
          else if (token === '\n') {
            done.push(current);
            current = '';
          } else current += token;
        }
        callback();
      },
    }),
    { isTTY: true },
  );
  return { stream, screen: () => [...done, current] };
}

describe('pretty logger on a terminal', () => {
  it('keeps one progress bar across child loggers: a line from any of them clears the bar and redraws it below', () => {
    const terminal = fakeTerminal();
    const root = createLogger('pretty', { process: 'pts dev' }, terminal.stream);
    const ingester = root.child({ component: 'ingester' });
    const demo = root.child({ component: 'demo' });
    ingester.progress('[###...] block 8/8 lag 0 | 1 blocks/s 8 events/s', { block: 8 });
    demo.info('demo liquidator liquidated positions', { positions: 2 });
    root.warn('RPC unavailable; retrying with backoff');
    ingester.progress('[######] block 9/9 lag 0 | 1 blocks/s 3 events/s', { block: 9 });
    demo.child({ trader: 1 }).info('order');
    expect(terminal.screen()).toEqual([
      'demo liquidator liquidated positions process=pts dev component=demo positions=2',
      'WARN RPC unavailable; retrying with backoff process=pts dev',
      'order process=pts dev component=demo trader=1',
      '[######] block 9/9 lag 0 | 1 blocks/s 3 events/s',
    ]);
  });

  it('writes plain lines, and progress as a log line, when the stream is not a terminal', () => {
    const terminal = fakeTerminal();
    terminal.stream.isTTY = false;
    const root = createLogger('pretty', {}, terminal.stream);
    root.child({ component: 'ingester' }).progress('[###] bar', { block: 8 });
    root.info('hello');
    expect(terminal.screen()).toEqual(['progress component=ingester block=8', 'hello', '']);
  });
});
