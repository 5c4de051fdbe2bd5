/**
 * graphql-jit writes an operation's literal argument values into the code it generates,
 * through JSON.stringify. A literal whose parsed value is not JSON, a Decimal (a bigint),
 * cannot be written, and the whole operation failed to compile: `stress(shocks: [{
 * underlying: "ETH", priceMove: "-0.2" }])` answered an internal error. So before
 * compiling, each such literal becomes a variable of its own type (defined on every
 * operation of the document), whose value is the literal's text: the scalar's parseValue
 * then gives what its parseLiteral would have (Decimal takes the same string both ways).
 * Once per document; the values join each request's variables.
 */
import {
  getNamedType, isScalarType, Kind, TypeInfo, visit, visitWithTypeInfo,
  type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type VariableDefinitionNode,
} from 'graphql';

/** Scalars whose parsed values are not JSON (graphql-jit cannot embed them). */
const NOT_JSON = new Set(['Decimal']);

export interface LiteralVariables {
  document: DocumentNode;
  /** Values of the variables that replaced literals (empty: the document is unchanged). */
  values: Record<string, unknown>;
}

export function literalsAsVariables(schema: GraphQLSchema, document: DocumentNode): LiteralVariables {
  const taken = new Set<string>();
  visit(document, { Variable: (node) => void taken.add(node.name.value) });
  const values: Record<string, unknown> = {};
  const definitions: VariableDefinitionNode[] = [];
  const typeInfo = new TypeInfo(schema);
  const replaced = visit(document, visitWithTypeInfo(typeInfo, {
    // A variable's default cannot name a variable; graphql-jit coerces defaults at run time.
    VariableDefinition: () => false,
    StringValue(node) {
      const type = typeInfo.getInputType();
      if (!type || !isScalarType(getNamedType(type)) || !NOT_JSON.has(getNamedType(type)!.name)) return undefined;
      let name: string;
      for (let i = definitions.length; taken.has((name = `pts_literal_${i}`)); i++);
      taken.add(name);
      values[name] = node.value;
      const named = { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: getNamedType(type)!.name } } as const;
      definitions.push({ kind: Kind.VARIABLE_DEFINITION, variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } }, type: { kind: Kind.NON_NULL_TYPE, type: named } });
      return { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } };
    },
  }));
  if (definitions.length === 0) return { document, values };
  return {
    document: {
      ...replaced,
      definitions: replaced.definitions.map((d) =>
        d.kind === Kind.OPERATION_DEFINITION ? ({ ...d, variableDefinitions: [...(d.variableDefinitions ?? []), ...definitions] } satisfies OperationDefinitionNode) : d,
      ),
    },
    values,
  };
}
