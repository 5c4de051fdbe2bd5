// Every field whose answer is a list (or a connection: a page of a list) passes its value
// through the operation's budget (budget.ts): where an answer grows, the executor lets the
// event loop turn between slices and stops once the budget is spent. Fields of single
// values are left alone: they are most of the resolver calls and add no volume.
import { getNamedType, getNullableType, isListType, isObjectType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { then } from '../memo.js';

interface Paced {
  pace<T>(value: T): T | Promise<T>;
}

function isPaced(context: unknown): context is Paced {
  return typeof (context as Partial<Paced> | null)?.pace === 'function';
}

/** Whether `field` answers a list, or a page of one. */
function growsWithAnswer(field: GraphQLField<unknown, unknown>): boolean {
  return isListType(getNullableType(field.type)) || getNamedType(field.type).name.endsWith('Connection');
}

/** Wraps the list fields of `schema` (its own objects, not introspection's) in place; returns it. */
export function paceListFields(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type === schema.getSubscriptionType()) continue;
    for (const field of Object.values(type.getFields())) {
      if (!growsWithAnswer(field)) continue;
      const resolve = field.resolve;
      const name = field.name;
      field.resolve = (source, args, context, info) => {
        const value = resolve ? resolve(source, args, context, info) : (source as Record<string, unknown>)[name];
        return isPaced(context) ? then(value, (v) => context.pace(v)) : value;
      };
    }
  }
  return schema;
}
