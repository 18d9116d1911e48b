// Builds a Temporal event history by hand, as the server would record it, so the workflow can
// be replayed through the real SDK without a server (replay.test.ts). Replay checks that the
// workflow issues exactly the commands the history holds, in order: an activity the workflow
// schedules but the history lacks (or the reverse) is a nondeterminism error. It is lenient
// about which workflow task issued a command, so a scenario must make a timing difference
// change the commands to catch it.
// Ids and times are plain numbers: a history with string ids goes through historyFromJSON,
// which fails in this install (two copies of protobufjs under @temporalio/common and /proto).
import { defaultPayloadConverter } from "@temporalio/common";

const eventType = {
  workflowStarted: 1,
  workflowCompleted: 2,
  workflowFailed: 3,
  workflowTaskScheduled: 5,
  workflowTaskStarted: 6,
  workflowTaskCompleted: 7,
  activityScheduled: 10,
  activityStarted: 11,
  activityCompleted: 12,
  activityFailed: 13,
  activityCancelRequested: 15,
  activityCanceled: 16,
  workflowCancelRequested: 20,
  workflowSignaled: 26,
} as const;

const taskQueue = { name: "tasks-replay" };
const payloads = (...values: unknown[]) => ({ payloads: values.map((value) => defaultPayloadConverter.toPayload(value)) });

export interface History {
  events: object[];
}

export function createHistoryBuilder(workflowType: string, ...args: unknown[]) {
  const events: object[] = [];
  let lastTaskCompleted = 0;
  let activitySeq = 0;

  const add = (type: number, attributesKey: string, attributes: object): number => {
    const eventId = events.length + 1;
    events.push({ eventId, eventTime: { seconds: 1_800_000_000 + eventId, nanos: 0 }, eventType: type, [attributesKey]: attributes });
    return eventId;
  };

  add(eventType.workflowStarted, "workflowExecutionStartedEventAttributes", {
    workflowType: { name: workflowType },
    taskQueue,
    input: payloads(...args),
    workflowTaskTimeout: { seconds: 10 },
    originalExecutionRunId: "replay-run",
    firstExecutionRunId: "replay-run",
    attempt: 1,
    identity: "replay",
  });

  const builder = {
    /** A workflow task: the workflow runs, and the commands it issues follow. */
    workflowTask() {
      const scheduledEventId = add(eventType.workflowTaskScheduled, "workflowTaskScheduledEventAttributes", { taskQueue, startToCloseTimeout: { seconds: 10 }, attempt: 1 });
      const startedEventId = add(eventType.workflowTaskStarted, "workflowTaskStartedEventAttributes", { scheduledEventId, identity: "replay", requestId: `wft-${scheduledEventId}` });
      lastTaskCompleted = add(eventType.workflowTaskCompleted, "workflowTaskCompletedEventAttributes", { scheduledEventId, startedEventId, identity: "replay" });
      return builder;
    },
    /** The workflow schedules an activity, which is still running; returns its scheduled event id. */
    scheduleActivity(activityType: string): number {
      activitySeq += 1;
      return add(eventType.activityScheduled, "activityTaskScheduledEventAttributes", {
        activityId: String(activitySeq),
        activityType: { name: activityType },
        taskQueue,
        workflowTaskCompletedEventId: lastTaskCompleted,
      });
    },
    completeActivity(scheduledEventId: number, result?: unknown) {
      const startedEventId = add(eventType.activityStarted, "activityTaskStartedEventAttributes", { scheduledEventId, identity: "replay", attempt: 1 });
      add(eventType.activityCompleted, "activityTaskCompletedEventAttributes", { scheduledEventId, startedEventId, result: result === undefined ? undefined : payloads(result), identity: "replay" });
      return builder;
    },
    failActivity(scheduledEventId: number, failure: { message: string; type: string; nonRetryable: boolean }) {
      const startedEventId = add(eventType.activityStarted, "activityTaskStartedEventAttributes", { scheduledEventId, identity: "replay", attempt: 1 });
      add(eventType.activityFailed, "activityTaskFailedEventAttributes", {
        scheduledEventId,
        startedEventId,
        failure: { message: failure.message, source: "TypeScriptSDK", applicationFailureInfo: { type: failure.type, nonRetryable: failure.nonRetryable } },
        retryState: 2, // NON_RETRYABLE_FAILURE
        identity: "replay",
      });
      return builder;
    },
    /** A workflow task that schedules one activity, which then completes with `result`. */
    activity(activityType: string, result?: unknown) {
      builder.workflowTask();
      return builder.completeActivity(builder.scheduleActivity(activityType), result);
    },
    signal(signalName: string, ...signalArgs: unknown[]) {
      add(eventType.workflowSignaled, "workflowExecutionSignaledEventAttributes", { signalName, input: payloads(...signalArgs), identity: "replay" });
      return builder;
    },
    cancelWorkflow() {
      add(eventType.workflowCancelRequested, "workflowExecutionCancelRequestedEventAttributes", { identity: "replay" });
      return builder;
    },
    /** The workflow asked to cancel a running activity (in the last workflow task), and the activity confirmed. */
    activityCancelled(scheduledEventId: number) {
      add(eventType.activityCancelRequested, "activityTaskCancelRequestedEventAttributes", { scheduledEventId, workflowTaskCompletedEventId: lastTaskCompleted });
      add(eventType.activityCanceled, "activityTaskCanceledEventAttributes", { scheduledEventId, identity: "replay" });
      return builder;
    },
    completed(result: unknown): History {
      builder.workflowTask();
      add(eventType.workflowCompleted, "workflowExecutionCompletedEventAttributes", { result: payloads(result), workflowTaskCompletedEventId: lastTaskCompleted });
      return { events };
    },
    failed(message: string): History {
      builder.workflowTask();
      add(eventType.workflowFailed, "workflowExecutionFailedEventAttributes", { failure: { message, source: "TypeScriptSDK", applicationFailureInfo: {} }, workflowTaskCompletedEventId: lastTaskCompleted });
      return { events };
    },
  };
  return builder;
}
