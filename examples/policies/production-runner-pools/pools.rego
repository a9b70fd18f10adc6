package custody.pipeline

# The environments the pipeline deploys to, as in force: name, type and runner pool.
envs := {e.name: e | some e in input.environments}

# The pool a stage runs in: a deploy stage always runs in its environment's pool.
pool_of(stage) := envs[stage.environment].runnerPool

pool_of(stage) := object.get(stage, "runnerPool", "default") if not envs[stage.environment]

production(stage) if envs[stage.environment].type == "production"

deny contains msg if {
	some stage in input.pipeline.spec.stages
	not production(stage)
	startswith(pool_of(stage), "prod")
	msg := sprintf("stage %s asks for production pool %s but does not deploy to production", [stage.name, pool_of(stage)])
}

deny contains msg if {
	some stage in input.pipeline.spec.stages
	production(stage)
	not startswith(pool_of(stage), "prod")
	msg := sprintf("stage %s deploys to production %s from pool %s, not a prod pool", [stage.name, stage.environment, pool_of(stage)])
}
