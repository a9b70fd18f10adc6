package custody.pipeline_test

import data.custody.pipeline

envs := [{"name": "prod", "type": "production"}, {"name": "qa", "type": "pre-production"}]

test_build_in_prod_pool_denied if {
	pipeline.deny == {"stage build asks for production pool prod but does not deploy to production"} with input as {
		"environments": envs,
		"pipeline": {"spec": {"stages": [{"name": "build", "runnerPool": "prod"}, {"name": "ship", "environment": "prod", "runnerPool": "prod"}]}},
	}
}

test_prod_deploy_from_default_pool_denied if {
	count(pipeline.deny) == 1 with input as {
		"environments": envs,
		"pipeline": {"spec": {"stages": [{"name": "ship", "environment": "prod"}]}},
	}
}

test_qa_from_default_passes if {
	count(pipeline.deny) == 0 with input as {
		"environments": envs,
		"pipeline": {"spec": {"stages": [{"name": "build"}, {"name": "qa", "environment": "qa"}, {"name": "ship", "environment": "prod", "runnerPool": "prod"}]}},
	}
}
