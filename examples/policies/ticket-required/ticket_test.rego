package custody.deploy_test

import data.custody.deploy

prod := {"type": "production", "name": "prod"}

test_approved_ticket_passes if {
	count(deploy.deny) == 0 with input as {
		"environment": prod,
		"change": {"ticket": {"ticket": "CHG0040001", "approved": true, "state": "Scheduled"}},
	}
}

test_missing_ticket_denied if {
	deploy.deny == {"deploying to prod needs an approved change ticket (input \"ticket\")"} with input as {"environment": prod, "change": {"ticket": null}}
}

test_unapproved_ticket_denied if {
	some msg in deploy.deny with input as {
		"environment": prod,
		"change": {"ticket": {"ticket": "CHG0040002", "approved": false, "state": "New"}},
	}
	contains(msg, "CHG0040002 is not approved")
}

test_emergency_change_stands_in if {
	count(deploy.deny) == 0 with input as {
		"environment": prod,
		"change": {"ticket": null, "record": {"riskClass": "emergency"}},
	}
}

test_staging_needs_nothing if {
	count(deploy.deny) == 0 with input as {"environment": {"type": "pre-production", "name": "qa"}, "change": {}}
}
