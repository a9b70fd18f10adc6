package custody.pipeline_test

import data.custody.pipeline

envs(prod_pool) := [
	{"name": "prod", "type": "production", "runnerPool": prod_pool},
	{"name": "qa", "type": "pre-production", "runnerPool": "default"},
]

test_build_in_prod_pool_denied if {
	pipeline.deny == {"stage build asks for production pool prod but does not deploy to production"} with input as {
		"environments": envs("prod"),
		"pipeline": {"spec": {"stages": [{"name": "build", "runnerPool": "prod"}, {"name": "ship", "environment": "prod"}]}},
	}
}

test_prod_deploy_from_default_pool_denied if {
	pipeline.deny == {"stage ship deploys to production prod from pool default, not a prod pool"} with input as {
		"environments": envs("default"),
		"pipeline": {"spec": {"stages": [{"name": "ship", "environment": "prod"}]}},
	}
}

test_qa_and_prod_in_their_pools_pass if {
	count(pipeline.deny) == 0 with input as {
		"environments": envs("prod-us"),
		"pipeline": {"spec": {"stages": [{"name": "build"}, {"name": "qa", "environment": "qa"}, {"name": "ship", "environment": "prod"}]}},
	}
}
