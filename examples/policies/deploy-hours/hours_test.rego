package custody.deploy_test

import data.custody.deploy

at(ts, env) := {"at": ts, "environment": {"type": "production", "name": env}, "run": {"lane": "normal"}}

test_new_york_morning_passes if {
	# 14:30 UTC on a Wednesday is 09:30 in New York.
	count(deploy.deny) == 0 with input as at("2026-12-02T14:30:00Z", "prod")
}

test_new_york_early_denied if {
	# 13:30 UTC is 08:30 in New York, but 14:30 in Berlin.
	count(deploy.deny) == 1 with input as at("2026-12-02T13:30:00Z", "prod")
	count(deploy.deny) == 0 with input as at("2026-12-02T13:30:00Z", "prod-eu")
}

test_friday_after_four_denied if {
	deploy.deny == {"prod deploys on working days 09:00-16:00 America/New_York; it is Friday 16:xx there"} with input as at("2026-12-04T21:05:00Z", "prod")
}

test_weekend_rollback_allowed if {
	count(deploy.deny) == 0 with input as {"at": "2026-12-05T15:00:00Z", "environment": {"type": "production", "name": "prod"}, "run": {"lane": "rollback"}}
}
