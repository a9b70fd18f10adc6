package custody.pipeline_test

import data.custody.pipeline

build := {"name": "build", "type": "ci", "steps": [{"name": "compile", "run": "make"}]}

unit := {"name": "unit", "type": "ci", "steps": [{"name": "unit", "run": "npm test"}]}

deploy := {"name": "ship", "type": "deploy", "environment": "prod", "steps": [{"name": "d", "run": "./deploy.sh"}]}

test_deploy_after_tests_passes if {
	count(pipeline.deny) == 0 with input as {"pipeline": {"spec": {"stages": [build, unit, deploy]}}}
}

test_deploy_without_tests_denied if {
	pipeline.deny == {"stage ship deploys before any test step has run"} with input as {"pipeline": {"spec": {"stages": [build, deploy]}}}
}

test_report_counts_as_test if {
	count(pipeline.deny) == 0 with input as {"pipeline": {"spec": {"stages": [
		{"name": "check", "type": "ci", "steps": [{"name": "check", "run": "make check", "reports": [{"type": "tests", "path": "junit.xml"}]}]},
		deploy,
	]}}}
}
