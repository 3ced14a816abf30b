import { evaluateFilter, FilterError, objectReader, parseFilter, type FilterSchema } from '../../src/simulator/odataFilter';

const schema: FilterSchema = {
  entityType: 'microsoft.graph.user',
  properties: { displayName: 'string', mail: 'string', accountEnabled: 'boolean', createdDateTime: 'datetime', 'status/errorCode': 'number' },
};

function matches(filter: string, entity: Record<string, unknown>): boolean {
  return evaluateFilter(parseFilter(filter, schema), objectReader(entity));
}

function errorOf(filter: string): FilterError {
  try {
    parseFilter(filter, schema);
  } catch (error) {
    if (error instanceof FilterError) return error;
    throw error;
  }
  throw new Error(`expected '${filter}' to be rejected`);
}

describe('OData $filter', () => {
  const sean = { displayName: "Seán O'Brien", mail: "sean.o'brien@contoso.com", accountEnabled: true };

  test("a doubled quote is a quote inside the literal, and matching ignores case like Graph", () => {
    expect(matches("startswith(displayName,'seán o''b')", sean)).toBe(true);
    expect(matches("mail eq 'SEAN.O''BRIEN@contoso.com'", sean)).toBe(true);
    expect(matches("startsWith(displayName,'O''Brien')", sean)).toBe(false);
  });

  test('or, and, not, parentheses and in combine as OData defines', () => {
    expect(matches("startswith(displayName,'x') or mail eq 'sean.o''brien@contoso.com'", sean)).toBe(true);
    expect(matches("(startswith(displayName,'se') and accountEnabled eq false) or not (mail ne null)", sean)).toBe(false);
    expect(matches("displayName in ('Bob', 'seán o''brien')", sean)).toBe(true);
  });

  test('dates and nested properties compare by value', () => {
    const signIn = { createdDateTime: '2026-11-20T08:15:00Z', status: { errorCode: 50126 } };
    expect(matches('createdDateTime ge 2026-11-19T00:00:00Z and status/errorCode ne 0', signIn)).toBe(true);
    expect(matches('createdDateTime lt 2026-11-20T08:15:00Z', signIn)).toBe(false);
  });

  test('an unescaped quote cannot break out of a literal: the filter is rejected', () => {
    const error = errorOf("startswith(displayName,'O'Brien')");
    expect(error.kind).toBe('syntax');
    expect(error.message).toMatch(/^Invalid filter clause: Syntax error/);
    expect(errorOf("displayName eq 'x' or").kind).toBe('syntax');
    expect(errorOf('displayName eq').kind).toBe('syntax');
    expect(errorOf('(displayName eq \'x\'').kind).toBe('syntax');
  });

  test('unknown properties, unsupported functions and mismatched types are told apart', () => {
    expect(errorOf("jobTitle eq 'x'")).toMatchObject({ kind: 'unknownProperty', message: "Could not find a property named 'jobTitle' on type 'microsoft.graph.user'." });
    expect(errorOf("endswith(mail,'@contoso.com')").kind).toBe('unsupported');
    expect(errorOf("accountEnabled eq 'true'").kind).toBe('typeMismatch');
  });
});
