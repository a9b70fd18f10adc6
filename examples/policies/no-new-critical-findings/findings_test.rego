package custody.deploy_test

import data.custody.deploy

counts(c, h) := {"critical": c, "high": h, "medium": 3, "low": 9, "info": 0}

test_new_high_denied if {
	deploy.deny == {"1 new high finding(s) since the release in production"} with input as {
		"environment": {"type": "production"},
		"evidence": {"findings": {"new": counts(0, 1), "existing": counts(0, 0)}},
	}
}

test_existing_critical_warns_only if {
	count(deploy.deny) == 0 with input as {
		"environment": {"type": "production"},
		"evidence": {"findings": {"new": counts(0, 0), "existing": counts(2, 0)}},
	}
	count(deploy.warn) == 1 with input as {
		"environment": {"type": "production"},
		"evidence": {"findings": {"new": counts(0, 0), "existing": counts(2, 0)}},
	}
}

test_no_evidence_is_no_finding if {
	count(deploy.deny) == 0 with input as {"environment": {"type": "production"}, "evidence": null}
}
