import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream'
import { TributaryError } from '../errors.js'
import { pipelineSubjects, streamName } from '../jetstream/names.js'
import { getStream } from '../jetstream/stream.js'

const PIPELINE_NAME = /^[a-z][a-z0-9_-]{0,63}$/

/** A pipeline name as the pipeline schema allows it: it becomes part of subjects and names. */
export function checkPipelineName(name: string): string {
  if (PIPELINE_NAME.test(name)) return name
  throw new TributaryError('E_USAGE', `"${name}" is not a pipeline name`, { hint: 'a pipeline name is lowercase letters, digits, - and _, starting with a letter (the `name` of the pipeline file)' })
}

/**
 * The pipeline's stream, which the dlq, replay and tap commands work from (no pipeline file
 * needed). `where` names the NATS server for the error, e.g. "the `up` server".
 */
export async function requirePipelineStream(jsm: JetStreamManager, pipeline: string, where: string, opts: { dlqCount?: boolean } = {}): Promise<StreamInfo> {
  const stream = streamName(checkPipelineName(pipeline))
  const info = opts.dlqCount ? await getStreamWithDlq(jsm, stream, pipeline) : await getStream(jsm, stream)
  if (info) return info
  throw new TributaryError('E_USAGE', `pipeline "${pipeline}" has no stream ${stream} on ${where}`, {
    hint: 'check the pipeline name (the `name` in its file), or point to the NATS server it ran on with --nats or NATS_URL',
  })
}

async function getStreamWithDlq(jsm: JetStreamManager, stream: string, pipeline: string): Promise<StreamInfo | undefined> {
  const info = await getStream(jsm, stream)
  if (!info) return undefined
  // subjects_filter makes the server count each subject's messages (a pipeline has a handful).
  return jsm.streams.info(stream, { subjects_filter: pipelineSubjects(pipeline) })
}

/** Messages now on a subject, from an info fetched with `dlqCount`. */
export function subjectCount(info: StreamInfo, subject: string): number {
  return info.state.subjects?.[subject] ?? 0
}
