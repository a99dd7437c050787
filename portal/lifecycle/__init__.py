"""What follows a request's activation: the work done under the agreement (outputs
reviewed before publication, in outputs/)."""
