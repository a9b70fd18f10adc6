package custody.deploy

production if input.environment.type == "production"

emergency if input.change.record.riskClass == "emergency"

# The gate sends `ticket: null` when the run references none.
ticket := object.get(input, ["change", "ticket"], null)

deny contains msg if {
	production
	not emergency
	ticket == null
	msg := sprintf("deploying to %s needs an approved change ticket (input \"ticket\")", [input.environment.name])
}

deny contains msg if {
	production
	not emergency
	ticket != null
	not ticket.approved
	msg := sprintf("ticket %s is not approved (state: %v)", [ticket.ticket, ticket.state])
}
