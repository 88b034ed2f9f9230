import { describe, expect, it } from 'vitest'
import { assignStageIds, baseId, type StageRef } from '../../core/pipeline/stage-ids.js'
import { formatPath } from '../../core/config/json-path.js'

const s = (use: string, at: StageRef['at'], id?: string): StageRef => ({ use, at, ...(id ? { id } : {}) })

describe('assignStageIds', () => {
  it('derives ids from plugin names, suffixing repeats in file order across source, transforms and sinks', () => {
    const { ids, issues } = assignStageIds([s('file', ['source']), s('map', ['transforms', 0]), s('filter', ['transforms', 1]), s('map', ['transforms', 2]), s('map', ['transforms', 3]), s('file', ['sinks', 0])])
    expect(ids).toEqual(['file', 'map', 'filter', 'map-2', 'map-3', 'file-2'])
    expect(issues).toEqual([])
  })

  it('an explicit id wins, and derived ids step over it', () => {
    const { ids } = assignStageIds([s('file', ['source']), s('map', ['transforms', 0]), s('filter', ['transforms', 1], 'map'), s('map', ['transforms', 2], 'map-2')])
    expect(ids).toEqual(['file', 'map-3', 'map', 'map-2'])
  })

  it('is stable: the same file gives the same ids', () => {
    const stages = [s('file', ['source']), s('map', ['transforms', 0]), s('map', ['transforms', 1], 'enrich'), s('map', ['transforms', 2])]
    expect(assignStageIds(stages).ids).toEqual(assignStageIds(stages).ids)
    expect(assignStageIds(stages).ids).toEqual(['file', 'map', 'enrich', 'map-2'])
  })

  it('an explicit id used twice is an issue at the second one, naming the first', () => {
    const { issues } = assignStageIds([s('file', ['source']), s('map', ['transforms', 0], 'clean'), s('filter', ['transforms', 1], 'clean')])
    expect(issues.map((i) => [formatPath(i.at), i.message])).toEqual([
      ['transforms[1].id', 'stage id "clean" is already used by the stage at transforms[0]; give each stage a different id'],
    ])
  })

  it('"dlq" is reserved (it is the dead-letter subject)', () => {
    const { ids, issues } = assignStageIds([s('dlq', ['source']), s('x', ['sinks', 0], 'dlq')])
    expect(ids[0]).toBe('dlq-2')
    expect(issues.map((i) => formatPath(i.at))).toEqual(['sinks[0].id'])
  })

  it('makes any plugin name a valid id', () => {
    expect(baseId('@acme/geo-ip')).toBe('geo-ip')
    expect(baseId('My.Plugin')).toBe('my-plugin')
    expect(baseId('3d')).toBe('stage-3d')
  })
})
