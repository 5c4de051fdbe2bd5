import { execute, parse, print } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { literalsAsVariables } from '../../../src/graphql/literal-variables.js';
import { buildSchema } from '../../../src/graphql/schema.js';

const schema = buildSchema();

describe('Decimal literals as variables (graphql-jit cannot embed a bigint)', () => {
  it('replaces each Decimal literal, in lists, objects and fragments, beside the variables already there', () => {
    const document = parse(`
      query Q($u: String!, $pts_literal_0: Int) { stress(shocks: [{ underlying: $u, priceMove: "-0.2" }, { underlying: "BTC", priceMove: "0.1", volatilityMove: "0.05" }]) { ...F } }
      query R { stress(shocks: []) { blockNumber } }
      fragment F on StressResult { accounts(first: 1) { edges { node { account { stress(shocks: [{ underlying: "SOL", priceMove: "1.5" }]) { equity } } } } } }
    `);
    const { document: replaced, values } = literalsAsVariables(schema, document);
    expect(values).toEqual({ pts_literal_1: '-0.2', pts_literal_2: '0.1', pts_literal_3: '0.05', pts_literal_4: '1.5' });
    const text = print(replaced);
    expect(text).toContain('query Q($u: String!, $pts_literal_0: Int, $pts_literal_1: Decimal!, $pts_literal_2: Decimal!, $pts_literal_3: Decimal!, $pts_literal_4: Decimal!)');
    expect(text).toContain('query R($pts_literal_1: Decimal!');
    expect(text).toContain('{underlying: $u, priceMove: $pts_literal_1}');
    expect(text).toContain('{underlying: "BTC", priceMove: $pts_literal_2, volatilityMove: $pts_literal_3}');
    expect(text).toContain('stress(shocks: [{underlying: "SOL", priceMove: $pts_literal_4}])');
    // The other literal strings stay, and graphql-jit now compiles it.
    expect(isCompiledQuery(compileQuery(schema, replaced, 'Q'))).toBe(true);
    expect(isCompiledQuery(compileQuery(schema, document, 'Q'))).toBe(false);
  });

  it('leaves variable defaults and documents without Decimal literals as they are', () => {
    const document = parse('query ($s: [ShockInput!]! = [{ underlying: "ETH", priceMove: "-0.2" }]) { stress(shocks: $s) { blockNumber } markets(underlying: "ETH") { id } }');
    const result = literalsAsVariables(schema, document);
    expect(result.document).toBe(document);
    expect(result.values).toEqual({});
    expect(isCompiledQuery(compileQuery(schema, document))).toBe(true); // defaults are coerced at run time
  });

  it('gives graphql-js the same arguments either way', async () => {
    const seen: unknown[] = [];
    // This file's own schema: its stress field records its arguments instead.
    schema.getQueryType()!.getFields().stress!.resolve = (_: unknown, args: unknown) => void seen.push(args);
    const document = parse('{ stress(shocks: [{ underlying: "ETH", priceMove: "-0.000000000000000001" }]) { blockNumber } }');
    const { document: replaced, values } = literalsAsVariables(schema, document);
    await execute({ schema, document });
    await execute({ schema, document: replaced, variableValues: values });
    expect(seen[0]).toEqual({ shocks: [{ underlying: 'ETH', priceMove: -1n }] });
    expect(seen[1]).toEqual(seen[0]);
  });
});
