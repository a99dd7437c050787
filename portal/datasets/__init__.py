"""The datasets ' pages: what each holds, whose data, and the Nations' TK and BC Labels."""
