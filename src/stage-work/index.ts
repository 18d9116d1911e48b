// stage-work/ — what an agent stage and the publishing stage do: check out the repository into a
// sandbox (sandbox-checkout.ts), run the role's agent and keep its output (sandbox-stage-work.ts)
// with a fresh model gateway token and the run's token budget as its failure reason (model-access.ts),
// check what the agent produced and publish it (publish-changes.ts). The StageWork port
// (stage-work.ts) is what activities/ calls; the RepositoryHost port (repository-host.ts) is where
// the repository lives — GitHub or a local path — implemented in repository-host/.
export {};
