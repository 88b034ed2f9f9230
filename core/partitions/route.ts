import type { JsonObject } from '../plugin-api.js'
import { partitionOf } from './key.js'
import { partitionSubject } from './names.js'

/** Where a producer publishes a record: the plain subject, or its key partition's subject. */
export type SubjectRoute = (record: JsonObject) => string

export function subjectRoute(subject: string, partitioning?: { count: number; key: string[][] }): SubjectRoute {
  if (!partitioning || partitioning.count <= 1) return () => subject
  const subjects = Array.from({ length: partitioning.count }, (_, i) => partitionSubject(subject, i))
  return (record) => subjects[partitionOf(record, partitioning.key, partitioning.count)]!
}
