import { describe, expect, it } from 'vitest'
import { compileExpression } from '../../core/expr/cel.js'
import { TributaryError } from '../../core/errors.js'

describe('expressions on JSON numbers', () => {
  it.each([
    ['value > 100', { value: 101 }, true],
    ['value > 100', { value: 100 }, false],
    ['value > 100', { value: 100.5 }, true],
    ['value > 100.5', { value: 101 }, true],
    ['value >= 2', { value: 2.0 }, true],
    ['value == 3', { value: 3 }, true],
  ])('%s with %j is %s', (src, rec, want) => {
    expect(compileExpression(src).test(rec)).toBe(want)
  })

  it.each([
    ['value * 2', { value: 3 }, 6],
    ['value * 2', { value: 1.5 }, 3],
    ['value * 1.5', { value: 2 }, 3],
    ['value + 1', { value: 0.5 }, 1.5],
    ['value - 1', { value: 10 }, 9],
    ['value / 4', { value: 10 }, 2.5],
    ['value % 2', { value: 5 }, 1],
    ['value % 2.0', { value: 5 }, 1],
    ['2 * 3', {}, 6],
    ['size(name)', { name: 'abc' }, 3],
    ['name + "!"', { name: 'hi' }, 'hi!'],
    ['user.id', { user: { id: 7 } }, 7],
    ['has(user.tier) ? user.tier : "free"', { user: {} }, 'free'],
    ['record.value', { value: 4 }, 4],
  ])('%s with %j gives %j', (src, rec, want) => {
    expect(compileExpression(src).evaluate(rec)).toEqual(want)
  })

  it('refuses a syntax error at compile time with a hint', () => {
    try {
      compileExpression('value >')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(TributaryError)
      expect((err as TributaryError).code).toBe('E_EXPR')
      expect((err as TributaryError).message).toContain('value >')
    }
  })

  it('reports a missing field as an evaluation error naming the expression', () => {
    expect(() => compileExpression('missing > 1').test({ value: 1 })).toThrow(/missing > 1/)
  })

  it('refuses a non-boolean result where a condition is expected', () => {
    expect(() => compileExpression('value * 2').test({ value: 1 })).toThrow(/must give true or false/)
  })

  it('has no access to JavaScript globals', () => {
    expect(() => compileExpression('process.exit(1)').evaluate({})).toThrow(TributaryError)
    expect(() => compileExpression('constructor').evaluate({})).toThrow(TributaryError)
  })
})
