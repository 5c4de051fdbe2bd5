// Issue 17, item 4: every type and field of the served schema says what it is and in which
// unit, because the explorer (and any client's codegen) shows these descriptions as the API's
// documentation. The checks walk the built schema, so a field added later, in schema.graphql
// or in code, fails here until it is described.
import {
  buildASTSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  parse,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { readFileSync } from 'node:fs';
import { buildSchema, SCHEMA_PATH } from '../../../src/graphql/schema.js';

/** What a reader must find: a unit or a dimension stated in words. */
const DECIMAL_UNIT = /quote|units? of the underlying|fraction|multiple|annualised/i;
/** Schema elements named as `Type`, `Type.field`, `Type.field(argument)`, `Enum.VALUE`. */
function undescribed(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const blank = (text: string | null | undefined) => !text?.trim();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
    if (blank(type.description)) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        const name = `${type.name}.${field.name}`;
        if (blank(field.description)) missing.push(name);
        // An argument is described on its own, or named (`arg`) in its field's description.
        for (const arg of field.args) {
          if (blank(arg.description) && !field.description?.includes(`\`${arg.name}\``)) missing.push(`${name}(${arg.name})`);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) if (blank(field.description)) missing.push(`${type.name}.${field.name}`);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) if (blank(value.description)) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing;
}

/** Decimal fields whose description states no unit, and timestamps not said to be seconds. */
function unitless(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
    for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
      const text = field.description ?? '';
      const decimal = getNamedType(field.type).name === 'Decimal';
      const time = /timestamp$|^expiry$/i.test(field.name);
      if ((decimal && !DECIMAL_UNIT.test(text)) || (time && !/seconds/.test(text))) missing.push(`${type.name}.${field.name}`);
    }
  }
  return missing;
}

describe('schema descriptions', () => {
  const schema = buildSchema();

  it('describes every type, field, enum value and input field, and every argument (or names it in its field)', () => {
    expect(undescribed(schema)).toEqual([]);
  });

  it('states the unit of every Decimal field and that timestamps are seconds', () => {
    expect(unitless(schema)).toEqual([]);
  });

  it('names what a later addition leaves undescribed', () => {
    // The served schema with what another change might add, undescribed.
    const extended = buildASTSchema(
      parse(`${readFileSync(SCHEMA_PATH, 'utf8')}
        extend type Account { """Described.""" described: Int newField: Int }
        extend type Subscription { accountWatched(owner: String!, afterBlock: SafeInt): Account! }
        enum Interval { """Per block.""" BLOCK HOUR }
        """A selector.""" input RangeSelector { number: SafeInt """Its hash.""" hash: String }
        extend type Query { """Funding paid, ever.""" fundingPaid: Decimal """Funding in quote units (see \`when\`).""" funding(when: SafeInt, block: RangeSelector): Decimal }
        type Unseen { """Described.""" field: Interval }
        extend type Unseen { """Block time, in blocks.""" blockTimestamp: SafeInt }`),
    );
    expect(undescribed(extended).sort()).toEqual(
      [
        'Account.newField',
        'RangeSelector.number',
        'Interval',
        'Interval.HOUR',
        'Query.funding(block)',
        'Subscription.accountWatched',
        'Subscription.accountWatched(afterBlock)',
        'Subscription.accountWatched(owner)',
        'Unseen',
      ].sort(),
    );
    expect(unitless(extended).sort()).toEqual(['Query.fundingPaid', 'Unseen.blockTimestamp']);
  });
});
