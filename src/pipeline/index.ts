// pipeline/ — the stage machine and its vocabulary. machine.ts decides, as a pure function of
// the run's state, which command comes next (check the flag, enter a stage, run its agent, wait
// for approval, publish, finish) and what a result leads to; execute-command.ts is the one
// interpreter that turns a command into an activity call, used by both engines. No I/O, clock or
// randomness, and no imports from other rooms: Temporal replays this code from history.
export {};
