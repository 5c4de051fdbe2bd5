/**
 * The shape of a module's resolvers. Parents and arguments are typed in each resolver
 * (they follow schema.graphql); the map itself stays loose so that modules can add fields
 * to each other's types (the fill module serves `Account.fills`, for example).
 */
import type { GraphQLResolveInfo, GraphQLScalarType } from 'graphql';
import type { RequestContext } from './context.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FieldResolver = (parent: any, args: any, ctx: RequestContext, info: GraphQLResolveInfo) => unknown;

export type ModuleResolvers = Record<string, Record<string, FieldResolver> | GraphQLScalarType>;

/** Batch key of a nested connection: parents with the same field and arguments share one statement. */
export function batchKey(info: GraphQLResolveInfo, args: unknown): string {
  return `${info.parentType.name}.${info.fieldName}(${JSON.stringify(args)})`;
}
