// What every screen gets: the unlocked session, navigation, the
// confirmation step for transactions, and a polite status message.
export {};
