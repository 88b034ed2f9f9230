import { describe, expect, it } from 'vitest'
import { compileSubject } from '../../plugins/nats-sink/subject-template.js'

describe('nats sink subject templates', () => {
  it('fills fields, nested fields and numbers', () => {
    expect(compileSubject('teams.{region}').render({ region: 'eu' })).toEqual({ subject: 'teams.eu' })
    expect(compileSubject('o.{c.country}.{kind}-x').render({ c: { country: 'de' }, kind: 7 })).toEqual({ subject: 'o.de.7-x' })
    expect(compileSubject('plain.subject').render({})).toEqual({ subject: 'plain.subject' })
  })

  it('refuses records whose value is missing or would change the subject', () => {
    const t = compileSubject('teams.{region}')
    expect(t.render({})).toEqual({ error: 'field region (in subject teams.{region}) is missing' })
    expect(t.render({ region: null })).toMatchObject({ error: expect.stringMatching(/is missing/) })
    expect(t.render({ region: { a: 1 } })).toMatchObject({ error: expect.stringMatching(/not a string or number/) })
    for (const bad of ['a.b', 'a b', '*', '>', '']) expect(t.render({ region: bad })).toMatchObject({ error: expect.stringMatching(/cannot be empty or hold/) })
  })

  it('refuses bad templates when compiled', () => {
    expect(() => compileSubject('teams.{region')).toThrow(/unbalanced/)
    expect(() => compileSubject('teams.{re gion}')).toThrow(/not a field name/)
    expect(() => compileSubject('teams.*')).toThrow(/valid NATS subject/)
    expect(() => compileSubject('teams..{x}')).toThrow(/valid NATS subject/)
    expect(() => compileSubject('teams.{}')).toThrow(/not a field name/)
  })
})
