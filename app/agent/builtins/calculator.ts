/**
 * `calculate`: arithmetic, functions and unit conversions with mathjs, never JavaScript `eval`.
 * Expressions are parsed and checked against an allowlist before they run, so assignments,
 * function definitions, `import`, `createUnit` and anything that could loop for long are refused.
 * Touches nothing.
 */
import type { MathNode } from 'mathjs';
import type { ToolDefinition } from '../registry';

const maxExpressionLength = 1000;

const allowedFunctions = new Set([
  'abs', 'cbrt', 'ceil', 'cube', 'exp', 'expm1', 'fix', 'floor', 'gcd', 'hypot', 'lcm', 'log', 'log10', 'log1p', 'log2',
  'mod', 'nthRoot', 'pow', 'round', 'sign', 'sqrt', 'square',
  'sin', 'cos', 'tan', 'sec', 'csc', 'cot', 'asin', 'acos', 'atan', 'atan2', 'asec', 'acsc', 'acot',
  'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'coth', 'acoth',
  'factorial', 'gamma', 'max', 'min', 'mean', 'median', 'sum', 'prod', 'std', 'variance',
  're', 'im', 'arg', 'conj', 'det', 'inv', 'transpose', 'dot', 'cross', 'to',
]);

const allowedOperators = new Set([
  'add', 'subtract', 'multiply', 'divide', 'pow', 'unaryMinus', 'unaryPlus', 'mod', 'factorial', 'to',
  'dotMultiply', 'dotDivide', 'dotPow', 'and', 'or', 'not', 'xor',
  'equal', 'unequal', 'smaller', 'larger', 'smallerEq', 'largerEq',
]);

const allowedConstants = new Set(['pi', 'PI', 'e', 'E', 'tau', 'phi', 'i', 'Infinity', 'NaN', 'LN2', 'LN10', 'LOG2E', 'LOG10E', 'SQRT1_2', 'SQRT2']);

/** mathjs takes most of a second to load, so it loads on the first calculation, not at start-up. */
async function createCalculator(): Promise<(expression: string) => string> {
  const { all, create } = await import('mathjs');
  const math = create(all ?? {}, { number: 'number' });
  const parse = math.parse;
  const format = math.format;
  const isValuelessUnit = (name: string): boolean => math.Unit.isValuelessUnit(name);
  // Defence in depth, as mathjs's security notes advise: these can change the instance or reach
  // the parser from inside an expression.
  const disabled = (name: string) => () => {
    throw new Error(`${name} is disabled in the calculator.`);
  };
  math.import(
    Object.fromEntries(['import', 'createUnit', 'reviver', 'evaluate', 'parse', 'simplify', 'derivative', 'resolve', 'compile'].map((name) => [name, disabled(name)])),
    { override: true },
  );

  function check(root: MathNode): void {
    root.traverse((node, path, parent) => {
      switch (node.type) {
        case 'ConstantNode':
        case 'ParenthesisNode':
        case 'ArrayNode':
        case 'ConditionalNode':
        case 'RelationalNode':
          return;
        case 'OperatorNode': {
          const fn = (node as unknown as { fn: string; op: string }).fn;
          if (!allowedOperators.has(fn)) throw new Error(`The operator "${(node as unknown as { op: string }).op}" is not supported.`);
          return;
        }
        case 'FunctionNode': {
          const fn = (node as unknown as { fn: MathNode }).fn;
          const name = fn.type === 'SymbolNode' ? (fn as unknown as { name: string }).name : '';
          if (!allowedFunctions.has(name)) throw new Error(name === '' ? 'Only named functions can be called.' : `The function "${name}" is not available in the calculator.`);
          return;
        }
        case 'SymbolNode': {
          if (parent?.type === 'FunctionNode' && path === 'fn') return;
          const name = (node as unknown as { name: string }).name;
          if (allowedConstants.has(name) || isValuelessUnit(name)) return;
          throw new Error(`Unknown name "${name}". Use numbers, operators, functions like sqrt(2), constants like pi, or units like 5 km to mi.`);
        }
        case 'AssignmentNode':
        case 'FunctionAssignmentNode':
          throw new Error('Assignments and function definitions are not allowed; give one expression to evaluate.');
        case 'BlockNode':
          throw new Error('Give one expression at a time.');
        case 'RangeNode':
          throw new Error('Ranges (a:b) are not supported.');
        default:
          throw new Error(`${node.type.replace(/Node$/, '')} expressions are not supported.`);
      }
    });
  }

  return (expression) => {
    const source = expression.trim();
    if (source === '') throw new Error('The expression is empty.');
    if (source.length > maxExpressionLength) throw new Error(`The expression is too long (${source.length} characters; the limit is ${maxExpressionLength}).`);
    let result: unknown;
    try {
      const node = parse(source);
      check(node);
      result = node.compile().evaluate(new Map());
    } catch (error) {
      throw new Error(`Could not calculate "${source}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (typeof result === 'function' || result === undefined) throw new Error(`"${source}" does not evaluate to a value.`);
    return format(result, { precision: 14, lowerExp: -9, upperExp: 21 });
  };
}

let calculator: Promise<(expression: string) => string> | undefined;

/** Evaluates one arithmetic expression and returns the result as text. */
export async function calculate(expression: string): Promise<string> {
  calculator ??= createCalculator();
  return (await calculator)(expression);
}

/**
 * Loads mathjs and runs one expression ahead of need, so the first calculation a user asks for
 * does not wait most of a second on the load. Call it once start-up is done; a failure is left
 * for the first real calculation to retry and report.
 */
export async function warmCalculator(): Promise<void> {
  try {
    await calculate('1 + 1');
  } catch {
    calculator = undefined;
  }
}

export function createCalculatorTools(): ToolDefinition[] {
  return [
    {
      name: 'calculate',
      description:
        'Evaluate an arithmetic expression exactly, e.g. "(12.5 * 3) / 4", "sqrt(2) ^ 3", "15% * 80", "sin(pi / 6)", "mean([3, 5, 10])" or a unit conversion like "5 km to mi". Use it instead of doing arithmetic in your head.',
      parameters: {
        type: 'object',
        properties: { expression: { type: 'string', description: 'One expression in mathjs syntax.' } },
        required: ['expression'],
        additionalProperties: false,
      },
      risk: 'safe',
      source: 'builtin',
      async execute(args) {
        return calculate(String(args.expression ?? ''));
      },
    },
  ];
}
