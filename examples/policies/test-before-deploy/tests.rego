package custody.pipeline

is_test(step) if regex.match(`(?i)\btest`, step.name)

is_test(step) if regex.match(`(?i)\b(test|pytest|jest|vitest|go test|mvn verify)\b`, step.run)

is_test(step) if {
	some report in step.reports
	report.type == "tests"
}

tested_before(i) if {
	some j, stage in input.pipeline.spec.stages
	j < i
	some step in stage.steps
	is_test(step)
}

deny contains msg if {
	some i, stage in input.pipeline.spec.stages
	stage.type == "deploy"
	not tested_before(i)
	msg := sprintf("stage %s deploys before any test step has run", [stage.name])
}
