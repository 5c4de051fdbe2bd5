// Operations built from schema.graphql itself, so that a field added to the schema is
// covered by the tests that use them without anyone listing it: every field of a type
// down to a depth, with the arguments a fixture names.
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLObjectType,
} from 'graphql';

/** A value for an argument (as GraphQL source text), or undefined to leave it out. */
export type ArgumentValue = (argument: GraphQLArgument, field: GraphQLField<unknown, unknown>, parent: GraphQLObjectType) => string | undefined;

/**
 * `{ a b c { d e } }` for `type`: every leaf field, and object fields down to `depth`
 * levels. A field whose required argument `argumentValue` cannot fill is left out.
 */
export function selectAll(type: GraphQLObjectType, depth: number, argumentValue: ArgumentValue): string {
  const parts: string[] = [];
  for (const field of Object.values(type.getFields())) {
    const call = fieldCall(field, type, argumentValue);
    if (call === null) continue;
    const named = getNamedType(field.type);
    if (isLeafType(named)) parts.push(call);
    else if (isObjectType(named) && depth > 0) parts.push(`${call} ${selectAll(named, depth - 1, argumentValue)}`);
  }
  // Always something to select: a type cut off by depth still answers __typename.
  return `{ ${parts.length ? parts.join(' ') : '__typename'} }`;
}

/** `name(arg: value, ...)`, or null when a required argument has no value. */
export function fieldCall(field: GraphQLField<unknown, unknown>, parent: GraphQLObjectType, argumentValue: ArgumentValue): string | null {
  const args: string[] = [];
  for (const argument of field.args) {
    const value = argumentValue(argument, field, parent);
    if (value === undefined) {
      if (isNonNullType(argument.type) && argument.defaultValue === undefined) return null;
      continue;
    }
    args.push(`${argument.name}: ${value}`);
  }
  return args.length ? `${field.name}(${args.join(', ')})` : field.name;
}

/** Source text of a simple value of an input type: the first enum value, a small number, a string. */
export function sampleValue(argument: GraphQLArgument): string {
  const nullable = getNullableType(argument.type);
  const list = isListType(nullable);
  const named = getNamedType(argument.type);
  let value: string;
  if (isEnumType(named)) value = named.getValues()[0]!.name;
  else if (named.name === 'Int' || named.name === 'SafeInt') value = '1';
  else if (named.name === 'Boolean') value = 'true';
  else value = '"x"';
  return list ? `[${value}]` : value;
}
