// A variables-aware estimate of how many values an operation can return.
//
// graphql-armor's cost limit (limits.ts) is a static pre-check of the document text: it
// multiplies by `first` only when `first` is a literal, so `accounts(first: $n) {
// ... fills(first: $n) }` with n = 1000 costs it almost nothing while asking for a
// million rows. This estimate runs once the operation and its variables are known
// (Apollo's didResolveOperation, graphql-ws's onSubscribe) and multiplies every
// paginated field by its real `first` (variable, literal or the schema default) and every
// unpaginated list by an assumed size.
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  valueFromAST,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export interface CostOptions {
  /** Largest `first` a connection accepts (src/graphql/pagination.ts): larger values cost as this. */
  maxPageSize: number;
  /** Assumed length of a list field without `first` (`Account.positions`, `Query.markets`, ...). */
  defaultListSize: number;
  /** Per-field overrides of `defaultListSize`, keyed "Type.field". */
  listSizes?: Readonly<Record<string, number>>;
  /** What `__schema` / `__type` cost (introspection, when enabled). */
  introspectionCost: number;
}

/**
 * Estimated number of field values the operation may produce: each selected field counts
 * 1, times the product of the sizes of the lists and connections above it. Fragments are
 * expanded in place; `@skip`/`@include` are ignored (an upper bound).
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  options: CostOptions,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return 0;

  const selectionSetCost = (parent: GraphQLCompositeType, set: SelectionSetNode, spread: ReadonlySet<string>): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        total += fieldCost(parent, selection, spread);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) total += selectionSetCost(type, selection.selectionSet, spread);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || spread.has(name)) continue; // unknown or cyclic: validation rejects both
        const type = schema.getType(fragment.typeCondition.name.value);
        if (type && isCompositeType(type)) total += selectionSetCost(type, fragment.selectionSet, new Set([...spread, name]));
      }
    }
    return total;
  };

  const fieldCost = (parent: GraphQLCompositeType, node: FieldNode, spread: ReadonlySet<string>): number => {
    const name = node.name.value;
    if (name === '__schema' || name === '__type') return options.introspectionCost;
    const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
    if (!field) return 1; // __typename, or a field validation rejects
    const type = getNamedType(field.type);
    if (!isCompositeType(type) || !node.selectionSet) return 1;
    return 1 + multiplier(parent, field, node) * selectionSetCost(type, node.selectionSet, spread);
  };

  const multiplier = (parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, node: FieldNode): number => {
    const first = field.args.find((a) => a.name === 'first');
    if (first) {
      const argument = node.arguments?.find((a) => a.name.value === 'first');
      let value: unknown = argument ? valueFromAST(argument.value, first.type, variables as Record<string, unknown>) : undefined;
      // Absent or null: the schema default. Unparseable: 1, and variable coercion rejects it.
      if (argument === undefined || value === null) value = first.defaultValue ?? options.maxPageSize;
      if (typeof value !== 'number' || !Number.isFinite(value)) return 1;
      return Math.min(Math.max(Math.trunc(value), 0), options.maxPageSize);
    }
    if (isListType(getNullableType(field.type))) {
      // A connection's page is counted once, at the connection field.
      if (field.name === 'edges' && parent.name.endsWith('Connection')) return 1;
      return options.listSizes?.[`${parent.name}.${field.name}`] ?? options.defaultListSize;
    }
    return 1;
  };

  return selectionSetCost(root, operation.selectionSet, new Set());
}
