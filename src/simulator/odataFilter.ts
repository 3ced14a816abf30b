// A small OData v4 `$filter` parser: the subset Microsoft Graph accepts on users, groups and
// sign-ins (comparison operators, `in`, `startswith`, `and`/`or`/`not`, parentheses), enough to
// reject what Graph rejects with the same kind of error.

export type PropertyType = 'string' | 'boolean' | 'datetime' | 'number';

export interface FilterSchema {
  /** Graph's type name, used in error messages: `microsoft.graph.user`. */
  entityType: string;
  /** Filterable properties by path (`status/errorCode`), matched case-insensitively like Graph. */
  properties: Record<string, PropertyType>;
}

export type Literal =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'datetime'; value: Date }
  | { type: 'null' };

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterExpression =
  | { kind: 'and' | 'or'; left: FilterExpression; right: FilterExpression }
  | { kind: 'not'; operand: FilterExpression }
  | { kind: 'compare'; operator: ComparisonOperator; property: string; value: Literal }
  | { kind: 'in'; property: string; values: Literal[] }
  | { kind: 'startswith'; property: string; value: string };

export type FilterErrorKind = 'syntax' | 'unsupported' | 'unknownProperty' | 'typeMismatch';

export class FilterError extends Error {
  constructor(
    readonly kind: FilterErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

type Token =
  | { type: 'open' | 'close' | 'comma'; position: number }
  | { type: 'word'; text: string; position: number }
  | { type: 'literal'; literal: Literal; position: number };

const COMPARISONS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < filter.length) {
    const char = filter[index] as string;
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === '(' || char === ')' || char === ',') {
      tokens.push({ type: char === '(' ? 'open' : char === ')' ? 'close' : 'comma', position: index });
      index += 1;
    } else if (char === "'") {
      // OData escapes a quote inside a string literal by doubling it: 'O''Brien'.
      let value = '';
      let cursor = index + 1;
      for (;;) {
        if (cursor >= filter.length) {
          throw new FilterError(
            'syntax',
            `Invalid filter clause: Syntax error: character ''' is not valid at position ${index + 1} in '${filter}'.`,
          );
        }
        const next = filter[cursor] as string;
        if (next === "'") {
          if (filter[cursor + 1] === "'") {
            value += "'";
            cursor += 2;
            continue;
          }
          break;
        }
        value += next;
        cursor += 1;
      }
      tokens.push({ type: 'literal', literal: { type: 'string', value }, position: index });
      index = cursor + 1;
    } else {
      const match = /^[^\s(),']+/.exec(filter.slice(index));
      const text = match ? match[0] : char;
      tokens.push(wordOrLiteral(text, index, filter));
      index += text.length;
    }
  }
  return tokens;
}

function wordOrLiteral(text: string, position: number, filter: string): Token {
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'false') return { type: 'literal', literal: { type: 'boolean', value: lower === 'true' }, position };
  if (lower === 'null') return { type: 'literal', literal: { type: 'null' }, position };
  if (NUMBER.test(text)) return { type: 'literal', literal: { type: 'number', value: Number(text) }, position };
  if (DATETIME.test(text)) {
    const value = new Date(text);
    if (!Number.isNaN(value.getTime())) return { type: 'literal', literal: { type: 'datetime', value }, position };
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/.test(text)) return { type: 'word', text, position };
  throw syntaxError(position, filter);
}

function syntaxError(position: number, filter: string): FilterError {
  return new FilterError('syntax', `Invalid filter clause: Syntax error at position ${position + 1} in '${filter}'.`);
}

class Parser {
  private index = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly filter: string,
    private readonly schema: FilterSchema,
  ) {}

  parse(): FilterExpression {
    if (this.tokens.length === 0) throw new FilterError('syntax', "Invalid filter clause: The query specified in the URI is not valid. An empty '$filter' is not allowed.");
    const expression = this.parseOr();
    const rest = this.tokens[this.index];
    if (rest) throw syntaxError(rest.position, this.filter);
    return expression;
  }

  private peekWord(): string | undefined {
    const token = this.tokens[this.index];
    return token?.type === 'word' ? token.text.toLowerCase() : undefined;
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (!token) throw syntaxError(this.filter.length, this.filter);
    this.index += 1;
    return token;
  }

  private expect(type: 'open' | 'close' | 'comma'): void {
    const token = this.next();
    if (token.type !== type) throw syntaxError(token.position, this.filter);
  }

  private parseOr(): FilterExpression {
    let left = this.parseAnd();
    while (this.peekWord() === 'or') {
      this.index += 1;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterExpression {
    let left = this.parseUnary();
    while (this.peekWord() === 'and') {
      this.index += 1;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): FilterExpression {
    if (this.peekWord() === 'not') {
      this.index += 1;
      return { kind: 'not', operand: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): FilterExpression {
    const token = this.next();
    if (token.type === 'open') {
      const inner = this.parseOr();
      this.expect('close');
      return inner;
    }
    if (token.type !== 'word') throw syntaxError(token.position, this.filter);

    const following = this.tokens[this.index];
    if (following?.type === 'open') return this.parseFunction(token);

    const property = this.property(token.text);
    const operatorToken = this.next();
    if (operatorToken.type !== 'word') throw syntaxError(operatorToken.position, this.filter);
    const operator = operatorToken.text.toLowerCase();
    if (operator === 'in') {
      this.expect('open');
      const values: Literal[] = [];
      for (;;) {
        values.push(this.literal(property));
        const separator = this.next();
        if (separator.type === 'close') break;
        if (separator.type !== 'comma') throw syntaxError(separator.position, this.filter);
      }
      return { kind: 'in', property, values };
    }
    if (!COMPARISONS.has(operator)) {
      if (['has', 'add', 'sub', 'mul', 'div', 'mod'].includes(operator)) {
        throw new FilterError('unsupported', 'Unsupported Query.');
      }
      throw syntaxError(operatorToken.position, this.filter);
    }
    return { kind: 'compare', operator: operator as ComparisonOperator, property, value: this.literal(property) };
  }

  private parseFunction(nameToken: { text: string; position: number }): FilterExpression {
    const name = nameToken.text.toLowerCase();
    this.expect('open');
    const propertyToken = this.next();
    if (propertyToken.type !== 'word') throw syntaxError(propertyToken.position, this.filter);
    const property = this.property(propertyToken.text);
    this.expect('comma');
    const value = this.literal(property);
    this.expect('close');
    if (name !== 'startswith') {
      // Graph answers endswith/contains on directory objects without advanced query headers this way.
      throw new FilterError('unsupported', 'Unsupported Query.');
    }
    if (value.type !== 'string' || this.schema.properties[property] !== 'string') {
      throw new FilterError('unsupported', 'Unsupported Query.');
    }
    return { kind: 'startswith', property, value: value.value };
  }

  private property(text: string): string {
    const known = Object.keys(this.schema.properties).find((name) => name.toLowerCase() === text.toLowerCase());
    if (!known) {
      throw new FilterError(
        'unknownProperty',
        `Could not find a property named '${text}' on type '${this.schema.entityType}'.`,
      );
    }
    return known;
  }

  private literal(property: string): Literal {
    const token = this.next();
    if (token.type !== 'literal') throw syntaxError(token.position, this.filter);
    const literal = token.literal;
    const expected = this.schema.properties[property] as PropertyType;
    const compatible =
      literal.type === 'null' ||
      (expected === 'string' && literal.type === 'string') ||
      (expected === 'boolean' && literal.type === 'boolean') ||
      (expected === 'number' && literal.type === 'number') ||
      (expected === 'datetime' && literal.type === 'datetime');
    if (!compatible) {
      throw new FilterError(
        'typeMismatch',
        `A binary operator with incompatible types was detected. Found operand types '${edmType(expected)}' and '${literalEdmType(literal)}' for operator kind 'Equal'.`,
      );
    }
    return literal;
  }
}

function edmType(type: PropertyType): string {
  return { string: 'Edm.String', boolean: 'Edm.Boolean', datetime: 'Edm.DateTimeOffset', number: 'Edm.Int32' }[type];
}

function literalEdmType(literal: Literal): string {
  switch (literal.type) {
    case 'string':
      return 'Edm.String';
    case 'boolean':
      return 'Edm.Boolean';
    case 'number':
      return 'Edm.Int32';
    case 'datetime':
      return 'Edm.DateTimeOffset';
    case 'null':
      return 'null';
  }
}

export function parseFilter(filter: string, schema: FilterSchema): FilterExpression {
  return new Parser(tokenize(filter), filter, schema).parse();
}

/** Reads a property by its filter path; `status/errorCode` walks into nested objects. */
export type PropertyReader = (property: string) => unknown;

// Directory string comparisons are case-insensitive in Microsoft Graph.
function fold(value: string): string {
  return value.toLowerCase();
}

function compare(actual: unknown, operator: ComparisonOperator, literal: Literal): boolean {
  if (literal.type === 'null') {
    if (operator === 'eq') return actual === null || actual === undefined;
    if (operator === 'ne') return actual !== null && actual !== undefined;
    return false;
  }
  if (actual === null || actual === undefined) return operator === 'ne';
  let order: number;
  switch (literal.type) {
    case 'string': {
      const left = fold(String(actual));
      const right = fold(literal.value);
      order = left < right ? -1 : left > right ? 1 : 0;
      break;
    }
    case 'datetime': {
      const left = new Date(String(actual)).getTime();
      order = Math.sign(left - literal.value.getTime());
      break;
    }
    case 'number':
      order = Math.sign(Number(actual) - literal.value);
      break;
    case 'boolean':
      order = actual === literal.value ? 0 : 1;
      if (operator !== 'eq' && operator !== 'ne') return false;
      break;
  }
  switch (operator) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
  }
}

export function evaluateFilter(expression: FilterExpression, read: PropertyReader): boolean {
  switch (expression.kind) {
    case 'and':
      return evaluateFilter(expression.left, read) && evaluateFilter(expression.right, read);
    case 'or':
      return evaluateFilter(expression.left, read) || evaluateFilter(expression.right, read);
    case 'not':
      return !evaluateFilter(expression.operand, read);
    case 'compare':
      return compare(read(expression.property), expression.operator, expression.value);
    case 'in': {
      const actual = read(expression.property);
      return expression.values.some((value) => compare(actual, 'eq', value));
    }
    case 'startswith': {
      const actual = read(expression.property);
      return typeof actual === 'string' && fold(actual).startsWith(fold(expression.value));
    }
  }
}

/** Property reader over a plain object, following `a/b` paths. */
export function objectReader(entity: Record<string, unknown>): PropertyReader {
  return (property) => {
    let current: unknown = entity;
    for (const segment of property.split('/')) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
    return current;
  };
}
