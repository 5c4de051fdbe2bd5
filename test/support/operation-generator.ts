// Random GraphQL operations built from the schema, for hostile-input tests: random
// selections of random depth (inside the limits and past them), aliases, named and inline
// fragments, @include/@skip, variables with and without defaults (sent, left out, or of
// the wrong type), and argument values chosen to hurt: NUL characters, huge and negative
// numbers, overflowing and foreign cursors, unknown enum values, deep lists, long strings.
// Seeded, so a failure names the seed that reproduces it.
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

import { random } from '../../src/devnet/workload.js';

export { random };

export interface GeneratedOperation {
  kind: 'query' | 'subscription';
  text: string;
  variables: Record<string, unknown>;
}

/** Values a client can send that reach our code: plausible ones and hostile ones. */
const ADDRESSES = ['0x000000000000000000000000000000000000a11c', '0x0000000000000000000000000000000000000B0B', '0x1234', 'alice'];
const STRINGS = ['ETH-PERP', 'ETH', 'BTC-PERP', 'ETH-C', 'MalformedLog', '', 'a\u0000b', '\u0000', 'é🙂', '%s%n', "'; DROP TABLE account; --", 'x'.repeat(5000)];
const INTS = [0, 1, 3, 50, 1000, 1001, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1];
const SAFE_INTS = [0, 1, 5, 2 ** 31, 2 ** 53 - 1, -1, 2 ** 53, 1e300];
const DECIMALS = ['0', '1.5', '-0.000000000000000001', '1e400', 'NaN', '123456789012345678901234567890123456789012345678901234567890', 'abc'];

function cursors(): string[] {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    b64(['fill', '9223372036854775808', '0']),
    b64(['fill', '1', '2147483648']),
    b64(['account:RISK_DESC', '2147483648', '0', 'x']),
    b64(['account:ID_ASC', 'a\u0000b']),
    b64(['account:EQUITY_ASC', '0', `-${'9'.repeat(80)}`, 'x']),
    b64(['position', '1']),
    b64({ not: 'a list' }),
    'not base64 !',
    '',
    b64(['fill', '1', '1']),
  ];
}

export class OperationGenerator {
  private readonly next: () => number;
  private readonly cursorValues = cursors();
  private fragmentCount = 0;

  constructor(private readonly schema: GraphQLSchema, readonly seed: number) {
    this.next = random(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  private chance(p: number): boolean {
    return this.next() < p;
  }

  operation(): GeneratedOperation {
    const subscription = this.chance(0.15);
    const root = subscription ? this.schema.getSubscriptionType()! : this.schema.getQueryType()!;
    const variables: Record<string, unknown> = {};
    const definitions: string[] = [];
    const fragments: string[] = [];
    this.fragmentCount = 0;
    // Mostly within the depth limit (10), sometimes past it.
    const depth = this.chance(0.1) ? 12 + Math.floor(this.next() * 4) : 1 + Math.floor(this.next() * 7);
    const count = this.chance(0.05) ? 25 : 1 + Math.floor(this.next() * 3);
    const selections: string[] = [];
    for (let i = 0; i < count; i++) {
      const field = this.pick(Object.values(root.getFields()));
      const alias = count > 1 || this.chance(0.2) ? `a${i}: ` : '';
      selections.push(alias + this.fieldText(field, root, depth, { variables, definitions, fragments }));
    }
    const name = this.chance(0.5) ? ' Generated' : '';
    const header = definitions.length ? `${subscription ? 'subscription' : 'query'}${name}(${definitions.join(', ')})` : subscription ? `subscription${name}` : name ? `query${name}` : '';
    return { kind: subscription ? 'subscription' : 'query', text: `${header} { ${selections.join(' ')} }\n${fragments.join('\n')}`, variables };
  }

  private fieldText(
    field: GraphQLField<unknown, unknown>,
    parent: GraphQLObjectType,
    depth: number,
    out: { variables: Record<string, unknown>; definitions: string[]; fragments: string[] },
  ): string {
    const args: string[] = [];
    for (const argument of field.args) {
      const required = isNonNullType(argument.type) && argument.defaultValue === undefined;
      if (!required && !this.chance(0.35)) continue;
      if (this.chance(0.4)) args.push(`${argument.name}: ${this.variable(argument, out)}`);
      else args.push(`${argument.name}: ${this.literal(argument.type, argument)}`);
    }
    const directive = this.chance(0.05) ? ` @include(if: ${this.chance(0.5)})` : this.chance(0.03) ? ' @skip(if: false)' : '';
    const call = `${field.name}${args.length ? `(${args.join(', ')})` : ''}${directive}`;
    const type = getNamedType(field.type);
    if (isLeafType(type)) return call;
    if (!isObjectType(type)) return `${call} { __typename }`;
    return `${call} ${this.selectionSet(type, depth - 1, out)}`;
  }

  private selectionSet(type: GraphQLObjectType, depth: number, out: Parameters<OperationGenerator['fieldText']>[3]): string {
    const fields = Object.values(type.getFields());
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const objects = fields.filter((f) => !isLeafType(getNamedType(f.type)));
    const parts: string[] = [];
    for (const leaf of leaves) if (this.chance(0.4)) parts.push(this.fieldText(leaf, type, depth, out));
    if (depth > 0) for (const object of objects) if (this.chance(depth > 3 ? 0.25 : 0.15)) parts.push(this.fieldText(object, type, depth, out));
    if (parts.length === 0) parts.push(leaves.length ? leaves[0]!.name : '__typename');
    if (this.chance(0.1)) parts.push(`... on ${type.name} { __typename }`);
    if (this.chance(0.08) && this.fragmentCount < 3) {
      const name = `F${this.fragmentCount++}`;
      out.fragments.push(`fragment ${name} on ${type.name} { ${parts.join(' ')} }`);
      return `{ ...${name} }`;
    }
    return `{ ${parts.join(' ')} }`;
  }

  /** `$v3`, declared with the argument's type (sometimes a default, sometimes a wrong type), sent or left out. */
  private variable(argument: GraphQLArgument, out: Parameters<OperationGenerator['fieldText']>[3]): string {
    const name = `v${out.definitions.length}`;
    const typeText = this.chance(0.05) ? 'String' : String(argument.type);
    const withDefault = this.chance(0.3) && !isNonNullType(argument.type);
    out.definitions.push(`$${name}: ${typeText}${withDefault ? ` = ${this.literal(argument.type, argument)}` : ''}`);
    if (!withDefault || this.chance(0.5)) {
      if (this.chance(0.85)) out.variables[name] = this.jsonValue(argument.type, argument);
      else if (this.chance(0.5)) out.variables[name] = this.pick([null, 'wrong', 42, { a: 1 }, [[[]]]]);
    }
    return `$${name}`;
  }

  private literal(type: GraphQLInputType, argument: GraphQLArgument): string {
    const value = this.jsonValue(type, argument);
    return toLiteral(value, getNamedType(type));
  }

  private jsonValue(type: GraphQLInputType, argument: GraphQLArgument): unknown {
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      if (this.chance(0.05)) return nested(this.pick([2, 5, 40]));
      const length = this.pick([0, 1, 2, 5]);
      return Array.from({ length }, () => this.jsonValue(nullable.ofType as GraphQLInputType, argument));
    }
    const named = getNamedType(type);
    if (isEnumType(named)) return this.chance(0.9) ? this.pick(named.getValues()).name : 'NOT_A_STATE';
    if (isInputObjectType(named)) {
      const object: Record<string, unknown> = {};
      for (const field of Object.values(named.getFields())) if (isNonNullType(field.type) || this.chance(0.5)) object[field.name] = this.jsonValue(field.type, argument);
      return object;
    }
    if (isScalarType(named)) {
      switch (named.name) {
        case 'Int':
          return this.pick(INTS);
        case 'SafeInt':
          return this.pick(SAFE_INTS);
        case 'Boolean':
          return this.chance(0.5);
        case 'Decimal':
          return this.pick(DECIMALS);
        default:
          if (argument.name === 'after') return this.pick(this.cursorValues);
          if (argument.name === 'owner') return this.pick(ADDRESSES);
          return this.pick(STRINGS);
      }
    }
    return null;
  }
}

function nested(depth: number): unknown {
  let value: unknown = 'HEALTHY';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** GraphQL source text of a JSON value: enum values bare, object keys unquoted. */
function toLiteral(value: unknown, type: ReturnType<typeof getNamedType>): string {
  if (Array.isArray(value)) return `[${value.map((v) => toLiteral(v, type)).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${toLiteral(v, type)}`).join(', ')} }`;
  if (typeof value === 'string' && isEnumType(type) && /^[A-Z_]+$/.test(value)) return value;
  if (typeof value === 'number' && !Number.isFinite(value)) return '0';
  return JSON.stringify(value);
}
