package custody.deploy

# A pull request counts when merged and approved by someone who is not its author.
approved_pr(number) if {
	some pr in input.commits.pullRequests
	pr.number == number
	pr.merged
	some review in pr.reviews
	review.verdict == "approved"
	review.reviewer != pr.author
}

reviewed(commit) if {
	some number in commit.pullRequests
	approved_pr(number)
}

deny contains msg if {
	input.environment.type == "production"
	some commit in input.commits.items
	not reviewed(commit)
	msg := sprintf("commit %s (%s) was not approved in a merged pull request", [substring(commit.sha, 0, 12), commit.author.email])
}

deny contains "the commits being deployed are not known (more than the runner reported)" if {
	input.environment.type == "production"
	input.commits.truncated
}
