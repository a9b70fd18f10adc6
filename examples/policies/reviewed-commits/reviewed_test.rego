package custody.deploy_test

import data.custody.deploy

commit(sha, prs) := {"sha": sha, "author": {"email": "dev@example.com"}, "pullRequests": prs}

pr(n, merged, reviews) := {"number": n, "author": "github:dev", "merged": merged, "reviews": reviews}

ok_review := {"reviewer": "github:rita", "verdict": "approved"}

test_reviewed_commit_passes if {
	count(deploy.deny) == 0 with input as {
		"environment": {"type": "production"},
		"commits": {"items": [commit("aaaaaaaaaaaaaaaa", [7])], "pullRequests": [pr(7, true, [ok_review])], "truncated": false},
	}
}

test_self_approved_denied if {
	count(deploy.deny) == 1 with input as {
		"environment": {"type": "production"},
		"commits": {"items": [commit("bbbbbbbbbbbbbbbb", [8])], "pullRequests": [pr(8, true, [{"reviewer": "github:dev", "verdict": "approved"}])], "truncated": false},
	}
}

test_direct_push_denied if {
	deploy.deny == {"commit cccccccccccc (dev@example.com) was not approved in a merged pull request"} with input as {
		"environment": {"type": "production"},
		"commits": {"items": [commit("cccccccccccccccc", [])], "pullRequests": [], "truncated": false},
	}
}

test_unmerged_pr_denied if {
	count(deploy.deny) == 1 with input as {
		"environment": {"type": "production"},
		"commits": {"items": [commit("dddddddddddddddd", [9])], "pullRequests": [pr(9, false, [ok_review])], "truncated": false},
	}
}
