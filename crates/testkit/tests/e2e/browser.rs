// browser test: written next
