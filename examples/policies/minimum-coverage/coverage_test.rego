package custody.deploy_test

import data.custody.deploy

prod := {"type": "production"}

test_good_coverage_passes if {
	count(deploy.deny) == 0 with input as {"environment": prod, "evidence": {"coverage": {"reports": 1, "lines": {"percent": 91.5}, "drop": 0.5}}}
}

test_low_coverage_denied if {
	deploy.deny == {"line coverage 72.0% is below 80%"} with input as {"environment": prod, "evidence": {"coverage": {"reports": 1, "lines": {"percent": 72}, "drop": null}}}
}

test_drop_denied if {
	deploy.deny == {"line coverage dropped 5.0 points since the release in production"} with input as {"environment": prod, "evidence": {"coverage": {"reports": 1, "lines": {"percent": 85}, "drop": 5}}}
}

test_no_report_denied if {
	deploy.deny == {"no coverage report reaches production"} with input as {"environment": prod, "evidence": null}
}
