import { OutageLog } from '../../../src/log/outage.js';
import { capturingLogger } from '../../support/logger.js';

describe('OutageLog', () => {
  it('says once that a dependency is out, however often it fails, and once that it is back', () => {
    const logger = capturingLogger();
    const outage = new OutageLog(logger, 'database');
    outage.succeeded(); // nothing was out
    expect(outage.down).toBe(false);
    outage.failed({ error: 'connect ECONNREFUSED' });
    outage.failed({ error: 'connect ECONNREFUSED' });
    outage.failed({ error: 'the database system is starting up' });
    expect(outage.down).toBe(true);
    outage.succeeded({ url: 'x' });
    outage.succeeded();
    expect(logger.lines.map((l) => [l.level, l.message])).toEqual([
      ['warn', 'database unavailable; retrying with backoff'],
      ['info', 'database reachable again'],
    ]);
    expect(logger.lines[0]!.fields).toEqual({ error: 'connect ECONNREFUSED' });
    expect(logger.lines[1]!.fields).toEqual({ url: 'x', outageSeconds: expect.any(Number) });
    // The next outage is told again.
    outage.failed({});
    expect(logger.lines).toHaveLength(3);
  });
});
