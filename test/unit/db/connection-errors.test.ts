import { isConnectionError } from '../../../src/db/connection-errors.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it('knows an unreachable database or a dropped connection', () => {
    for (const error of [
      pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      pgError('ECONNRESET', 'read ECONNRESET'),
      pgError('ETIMEDOUT'),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08006', 'connection failure'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('timeout exceeded when trying to connect'),
      pgError('55000', 'database "x" is not currently accepting connections'),
    ]) {
      expect([error.message, isConnectionError(error)]).toEqual([error.message, true]);
    }
  });

  it('tells a failed statement from an outage', () => {
    for (const error of [
      pgError('23505', 'duplicate key value violates unique constraint'),
      pgError('42P01', 'relation "market" does not exist'),
      pgError('P0001', 'injected fault'),
      pgError('55000', 'cannot disallow connections for current database'),
      new Error('block 7 (parent 0xa) does not follow the last stored block 5 (0xb)'),
      undefined,
      'a string',
    ]) {
      expect(isConnectionError(error)).toBe(false);
    }
  });
});
