package custody.pipeline

production_envs := {e.name | some e in input.environments; e.type == "production"}

deny contains msg if {
	some stage in input.pipeline.spec.stages
	startswith(object.get(stage, "runnerPool", "default"), "prod")
	not stage.environment in production_envs
	msg := sprintf("stage %s asks for production pool %s but does not deploy to production", [stage.name, stage.runnerPool])
}

deny contains msg if {
	some stage in input.pipeline.spec.stages
	stage.environment in production_envs
	pool := object.get(stage, "runnerPool", "default")
	not startswith(pool, "prod")
	msg := sprintf("stage %s deploys to production %s from pool %s, not a prod pool", [stage.name, stage.environment, pool])
}
